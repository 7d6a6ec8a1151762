/**
 * The contact memory's worker thread (src/store/contact-memory-thread.ts): hashes, fingerprints and
 * database statements of the memory run here, with their own database connection, so the event loop that
 * drives HubSpot calls does none of it. Calls run one at a time, in the order they came, except that
 * confirms are grouped (below).
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

/**
 * Confirms wait here for a moment and are then committed together: random-key inserts cost SQLite about a
 * page write each per transaction, so one transaction of thousands of rows writes each page once rather than
 * once per batch (3× faster at 300,000 rows). A confirm still resolves only once its rows are committed; the
 * caller does not wait for it before its next batch (src/delivery/process-page.ts).
 */
const CONFIRM_WINDOW_MS = 20;
const CONFIRM_GROUP_ROWS = 10_000;
let confirms: MemoryCall[] = [];
let confirmRows = 0;
let timer: NodeJS.Timeout | undefined;
let lastConfirmAt = 0;
let chain: Promise<void> = Promise.resolve();

/** Runs `fn` after everything queued before it (one statement at a time on the thread's connection). */
function serially(fn: () => Promise<void>): void {
  chain = chain.then(fn, fn);
}

function reply(r: Reply): void {
  parentPort!.postMessage(JSON.stringify(r));
}

function flushConfirms(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  const group = confirms;
  confirms = [];
  confirmRows = 0;
  if (group.length === 0) return;
  serially(async () => {
    const replies = db.dialect === 'sqlite' && group.length > 1 ? await committedTogether(group) : await Promise.all(group.map(answer));
    for (const r of replies) reply(r);
  });
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
    flushConfirms();
    serially(async () => {
      await db.close();
      if (legacy && legacy !== db) await legacy.close();
      parentPort!.close();
    });
    return;
  }
  const call = JSON.parse(text) as MemoryCall;
  if (call.args[0] === 'confirm') {
    confirms.push(call);
    confirmRows += (call.args[2] as unknown[]).length;
    // A lone confirm (a quiet stream) is committed at once; one of a stream of them waits for the group.
    const lone = Date.now() - lastConfirmAt > CONFIRM_WINDOW_MS;
    lastConfirmAt = Date.now();
    if (lone || confirmRows >= CONFIRM_GROUP_ROWS) flushConfirms();
    else timer ??= setTimeout(flushConfirms, CONFIRM_WINDOW_MS);
    return;
  }
  // Reads and other writes see every confirm sent before them.
  flushConfirms();
  serially(async () => reply(await answer(call)));
});
