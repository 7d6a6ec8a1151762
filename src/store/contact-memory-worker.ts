/**
 * The contact memory's worker thread (src/store/contact-memory-thread.ts): hashes, fingerprints and
 * database statements of the memory run here, with their own database connection, so the event loop that
 * drives HubSpot calls does none of it.
 *
 * Confirms that queue up while the thread is busy are committed in one SQLite transaction (group
 * commit): each still resolves only after its rows are committed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { hasherWithKey } from '../streaming/email-hash';
import { SqlContactMemory } from './contact-memory';
import { openDb, type Db } from './db';
import type { MemoryCall, MemoryThreadData } from './contact-memory-thread';

const data = workerData as MemoryThreadData;
const db = openDb({ databaseUrl: data.databaseUrl, sqlitePath: data.sqlitePath });
const legacy: Db | undefined = data.databaseUrl ? db : data.legacySqlitePath ? openDb({ sqlitePath: data.legacySqlitePath }) : undefined;
const memory = new SqlContactMemory(db, hasherWithKey(Buffer.from(data.hashKey), 16), { legacyFrom: legacy });

type Reply = { id: number; result?: unknown; error?: string };

async function run(call: MemoryCall): Promise<unknown> {
  const [op, destinationId, ...args] = call.args as [string, string, ...unknown[]];
  switch (op) {
    case 'resolve':
      return memory.resolve(destinationId, args[0] as never, args[1] as never);
    case 'lookup':
      return [...(await memory.lookup(destinationId, args[0] as string[]))];
    case 'confirm':
      return memory.confirm(destinationId, args[0] as never);
    case 'updateRecordIds':
      return memory.updateRecordIds(destinationId, args[0] as never);
    case 'markSeen':
      return memory.markSeen(destinationId, args[0] as string, args[1] as string[]);
    case 'pageAbsentMembers':
      return memory.pageAbsentMembers(destinationId, args[0] as string[], args[1] as string, args[2] as string, args[3] as number);
    case 'recordExits':
      return memory.recordExits(destinationId, args[0] as never);
    case 'endRun':
      return memory.endRun(destinationId, args[0] as string);
    case 'forgetContacts':
      return memory.forgetContacts(destinationId, args[0] as string[]);
    case 'forget':
      return memory.forget(destinationId);
    case 'count':
      return memory.count(destinationId);
    default:
      throw new Error(`Unknown contact memory operation '${op}'.`);
  }
}

async function answer(call: MemoryCall): Promise<Reply> {
  try {
    return { id: call.id, result: await run(call) };
  } catch (err) {
    return { id: call.id, error: (err as Error).message };
  }
}

let queue: MemoryCall[] = [];
let draining = false;

/** Runs the queued calls in order; consecutive confirms on SQLite share one transaction. */
async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    while (queue.length) {
      const calls = queue;
      queue = [];
      for (let i = 0; i < calls.length;) {
        let j = i;
        while (j < calls.length && calls[j].args[0] === 'confirm') j++;
        if (j - i >= 2 && db.dialect === 'sqlite') {
          const group = calls.slice(i, j);
          const replies = await committedTogether(group);
          for (const r of replies) parentPort!.postMessage(JSON.stringify(r));
          i = j;
        } else {
          parentPort!.postMessage(JSON.stringify(await answer(calls[i])));
          i++;
        }
      }
    }
  } finally {
    draining = false;
  }
}

/** One transaction for the group; if it fails, each call runs alone so only the failing one reports its error. */
async function committedTogether(group: MemoryCall[]): Promise<Reply[]> {
  await db.exec('BEGIN IMMEDIATE');
  try {
    for (const call of group) await run(call);
    await db.exec('COMMIT');
    return group.map((c) => ({ id: c.id, result: undefined }));
  } catch {
    await db.exec('ROLLBACK').catch(() => undefined);
    memory.resetCaches(); // ids cached inside the rolled-back transaction may not exist
    const replies: Reply[] = [];
    for (const call of group) replies.push(await answer(call));
    return replies;
  }
}

parentPort!.on('message', (text: string) => {
  if (text === 'close') {
    void Promise.resolve()
      .then(async () => {
        while (draining || queue.length) await new Promise((r) => setTimeout(r, 5));
        await db.close();
        if (legacy && legacy !== db) await legacy.close();
      })
      .finally(() => parentPort!.close());
    return;
  }
  queue.push(JSON.parse(text) as MemoryCall);
  // Messages that arrived together drain together (setImmediate runs after the pending message events).
  if (!draining) setImmediate(() => void drain());
});
