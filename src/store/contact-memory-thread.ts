/**
 * The confirmed-state memory on its own thread, for the embedded SQLite store. better-sqlite3 is
 * synchronous: on the worker's main thread every confirm (an upsert of 100 rows at random keys) blocks
 * the event loop that also sends to HubSpot, and a first run with the memory was about 30% slower than
 * without it (BENCHMARKS.md, "memory cost"). Here the same `SqlContactMemory` runs on a worker thread
 * with its own connection to the same database file (WAL: readers and one writer at a time, with the
 * busy timeout), so the page activity awaits the memory while its sends go on.
 *
 * Semantics are unchanged: every call resolves after its statement committed, so "confirm before the
 * checkpoint" still holds. PostgreSQL needs none of this (its driver is asynchronous).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ContactMemory } from './contact-memory';

type Method = keyof ContactMemory;
/** Every method of ContactMemory (a missing one is a compile error here, not a runtime one in a worker). */
const EVERY_METHOD: Record<Method, true> = {
  lookup: true,
  confirm: true,
  updateRecordIds: true,
  markSeen: true,
  pageAbsentMembers: true,
  recordExits: true,
  endRun: true,
  forgetContacts: true,
  forget: true,
  count: true,
};
const METHODS = Object.keys(EVERY_METHOD) as Method[];

export interface ThreadedContactMemory extends ContactMemory {
  close(): Promise<void>;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

export function startContactMemoryThread(sqlitePath: string): ThreadedContactMemory {
  // Same extension as this file: .ts when run from source, .js when built.
  const ext = path.extname(__filename);
  const entry = path.join(__dirname, `contact-memory-thread-main${ext}`);
  // From source, the thread registers tsx's CommonJS hooks before it loads the entry.
  const worker =
    ext === '.ts'
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true, workerData: { sqlitePath } })
      : new Worker(entry, { workerData: { sqlitePath } });
  // The thread must not keep a finished process alive; pending calls keep it referenced.
  worker.unref();
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  let failed: Error | undefined;
  worker.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.result);
  });
  const failAll = (err: Error) => {
    failed ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`The contact memory thread stopped (exit code ${code}).`)));

  const call = (method: Method, args: unknown[]): Promise<unknown> => {
    if (failed) return Promise.reject(failed);
    const id = next++;
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  };
  const memory = Object.fromEntries(METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)])) as unknown as ContactMemory;
  return {
    ...memory,
    async close() {
      failed ??= new Error('The contact memory thread is closed.');
      await worker.terminate();
    },
  };
}
