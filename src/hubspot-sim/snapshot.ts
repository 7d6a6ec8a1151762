/**
 * Optional persistence: state is loaded from a JSON file at start, and written (atomically, via a temp
 * file and rename) a little after changes and on close, so the demo's contacts survive a restart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AccountsState } from './state/accounts';

interface SnapshotFile {
  version: 1;
  savedAt: string;
  accounts: AccountsState;
}

export function loadSnapshot(file: string): AccountsState | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as SnapshotFile;
  if (parsed.version !== 1) throw new Error(`Unsupported simulator snapshot version ${String(parsed.version)} in ${file}`);
  return parsed.accounts;
}

export class SnapshotWriter {
  private timer?: NodeJS.Timeout;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly getState: () => AccountsState,
    private readonly debounceMs = 1000,
    private readonly logger?: Logger,
  ) {}

  markDirty(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Writes now if anything changed since the last write; writes never overlap. */
  flush(force = false): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty && !force) return;
      this.dirty = false;
      const data: SnapshotFile = { version: 1, savedAt: new Date().toISOString(), accounts: this.getState() };
      const tmp = `${this.file}.${process.pid}.tmp`;
      try {
        await mkdir(path.dirname(this.file), { recursive: true });
        await writeFile(tmp, JSON.stringify(data));
        await rename(tmp, this.file);
      } catch (err) {
        this.dirty = true;
        this.logger?.error({ err }, 'hubspot-sim snapshot write failed');
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
