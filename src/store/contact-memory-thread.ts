/**
 * The contact memory behind a worker thread (docs/dataflows.md, "Cost"). With limits off, a run is bound
 * by the worker's event loop; the memory's work — an HMAC and a fingerprint per contact, and SQLite
 * statements at random keys — took about as long again as everything else on it. Here it runs on a
 * thread of its own with its own connection (on SQLite, to the memory's own file, so it never waits for
 * the store's write lock), and the caller's event loop only encodes and decodes one JSON message per call.
 *
 * Calls are answered in order. If the thread dies, its pending calls fail (the activity retries them)
 * and the next call starts a new thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EmailHasher } from '../streaming/email-hash';
import type { ConfirmOptions, ConfirmRow, ContactMemory, MemoryRow, PageContact, ResolveOptions, ResolvedContact } from './contact-memory';

/** What the thread opens: the memory's database and, on SQLite, the store that may hold an earlier version's memory. */
export interface MemoryThreadData {
  databaseUrl?: string;
  sqlitePath: string;
  legacySqlitePath?: string;
  /** The HMAC key of the memory's keys (raw bytes; the thread never logs it). */
  hashKey: Uint8Array;
  /** The thread's scheduling priority (nice; 0: as the process). */
  nice?: number;
}

export interface MemoryCall {
  id: number;
  /** [operation, destinationId, ...arguments] */
  args: unknown[];
}

/** Starts the thread: the compiled .js entry, or the .ts one through tsx's require hook (dev, tests). */
function startThread(workerData: MemoryThreadData): Worker {
  const ts = path.join(__dirname, 'contact-memory-worker.ts');
  if (__filename.endsWith('.ts') && fs.existsSync(ts))
    return new Worker(`require('tsx/cjs'); require(${JSON.stringify(ts)});`, { eval: true, workerData });
  return new Worker(path.join(__dirname, 'contact-memory-worker.js'), { workerData });
}

/** Background confirms are held at most this long, or until this many rows are held, before they are sent. */
const HELD_MS = 5;
const HELD_ROWS = 1_000;

export class ThreadedContactMemory implements ContactMemory {
  private worker: Worker | undefined;
  private readonly held = new Map<string, { rows: ConfirmRow[]; waiting: Array<{ resolve(): void; reject(e: Error): void }> }>();
  private heldTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(
    private readonly data: MemoryThreadData,
    private readonly hashKey: EmailHasher,
  ) {}

  keyOf(destinationId: string, email: string): string {
    return this.hashKey(destinationId, email);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startThread(this.data);
    worker.on('message', (text: string) => {
      const reply = JSON.parse(text) as { id: number; result?: unknown; error?: string };
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.error !== undefined) waiting.reject(new Error(`Contact memory: ${reply.error}`));
      else waiting.resolve(reply.result);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [, w] of this.pending) w.reject(new Error(`Contact memory thread stopped: ${err.message}`));
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private call<T>(...args: unknown[]): Promise<T> {
    this.sendHeld(); // calls are answered in order: confirms held back go first
    return this.post<T>(args);
  }

  private post<T>(args: unknown[]): Promise<T> {
    const worker = this.thread();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve, reject });
      // Referenced while a call waits, so a process with nothing else to do still gets its answer.
      worker.ref();
      worker.postMessage(JSON.stringify({ id, args } satisfies MemoryCall));
    });
  }

  resolve(destinationId: string, contacts: readonly PageContact[], options: ResolveOptions): Promise<ResolvedContact[]> {
    return this.call('resolve', destinationId, contacts, options);
  }

  async lookup(destinationId: string, keyHashes: readonly string[]): Promise<Map<string, MemoryRow>> {
    return new Map(await this.call<Array<[string, MemoryRow]>>('lookup', destinationId, keyHashes));
  }

  confirm(destinationId: string, rows: readonly ConfirmRow[], options?: ConfirmOptions): Promise<void> {
    if (!options?.background) return this.call('confirm', destinationId, rows, false);
    // A batch run's confirms, which nobody waits for, are held a few milliseconds and sent as one message:
    // a run's eight lanes confirm a batch of 100 each, and each message costs both threads.
    const held = this.held.get(destinationId) ?? { rows: [], waiting: [] };
    this.held.set(destinationId, held);
    held.rows.push(...rows);
    const done = new Promise<void>((resolve, reject) => held.waiting.push({ resolve, reject }));
    if (held.rows.length >= HELD_ROWS) this.sendHeld();
    else this.heldTimer ??= setTimeout(() => this.sendHeld(), HELD_MS);
    return done;
  }

  /** Sends the confirms held back, one call per destination; each caller's promise settles with it. */
  private sendHeld(): void {
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    if (this.held.size === 0) return;
    const held = [...this.held];
    this.held.clear();
    for (const [destinationId, { rows, waiting }] of held)
      this.post<void>(['confirm', destinationId, rows, true]).then(
        () => waiting.forEach((w) => w.resolve()),
        (err: Error) => waiting.forEach((w) => w.reject(err)),
      );
  }

  updateRecordIds(destinationId: string, rows: ReadonlyArray<{ keyHash: string; recordId: string }>): Promise<void> {
    return this.call('updateRecordIds', destinationId, rows);
  }

  markSeen(destinationId: string, runId: string, keyHashes: readonly string[]): Promise<void> {
    return this.call('markSeen', destinationId, runId, keyHashes);
  }

  pageAbsentMembers(
    destinationId: string,
    audienceIds: string | readonly string[],
    runId: string,
    after: string,
    limit: number,
  ): Promise<MemoryRow[]> {
    return this.call(
      'pageAbsentMembers',
      destinationId,
      typeof audienceIds === 'string' ? [audienceIds] : audienceIds,
      runId,
      after,
      limit,
    );
  }

  recordExits(destinationId: string, exits: ReadonlyArray<{ keyHash: string; audienceIds: readonly string[] }>): Promise<void> {
    return this.call('recordExits', destinationId, exits);
  }

  endRun(destinationId: string, runId: string): Promise<void> {
    return this.call('endRun', destinationId, runId);
  }

  forgetContacts(destinationId: string, keyHashes: readonly string[]): Promise<void> {
    return this.call('forgetContacts', destinationId, keyHashes);
  }

  forget(destinationId: string): Promise<void> {
    return this.call('forget', destinationId);
  }

  count(destinationId: string): Promise<number> {
    return this.call('count', destinationId);
  }

  /** Lets the thread finish what it was given, then closes its database. */
  async close(): Promise<void> {
    this.sendHeld();
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    worker.ref();
    const exited = new Promise((r) => worker.once('exit', r));
    worker.postMessage('close');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    await worker.terminate();
  }
}
