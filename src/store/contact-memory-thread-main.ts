/** Entry of the contact memory thread (src/store/contact-memory-thread.ts): one SQLite connection, calls in order. */
import { parentPort, workerData } from 'node:worker_threads';
import { SqlContactMemory, type ContactMemory } from './contact-memory';
import { openDb } from './db';

const { sqlitePath } = workerData as { sqlitePath: string };
const memory = new SqlContactMemory(openDb({ sqlitePath }));

parentPort!.on('message', (m: { id: number; method: keyof ContactMemory; args: unknown[] }) => {
  const fn = memory[m.method] as (...args: unknown[]) => Promise<unknown>;
  fn.apply(memory, m.args).then(
    (result) => parentPort!.postMessage({ id: m.id, result }),
    (err: unknown) => parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
