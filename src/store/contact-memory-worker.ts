/**
 * The contact memory's worker thread (src/store/contact-memory-thread.ts): hashes, fingerprints and
 * database statements of the memory run here, with their own database connection, so the event loop that
 * drives HubSpot calls does none of it. Calls run one at a time, in the order they came, except that
 * confirms are grouped (below).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { hasherWithKey } from '../streaming/email-hash';
import { openContactMemoryDb, SqlContactMemory } from './contact-memory';
import { openDb, type Db } from './db';
import type { MemoryCall, MemoryThreadData } from './contact-memory-thread';

/**
 * The thread's work is read ahead of need (a page's resolve) or not waited for (a batch run's confirms),
 * so on a machine short of cores it yields to the event loop that sends to HubSpot: a nicer priority for
 * this thread alone (Linux: a thread is a task of its own, named by its id under /proc/thread-self).
 * Elsewhere, or where the system refuses, it runs as the process does.
 */
function lowerPriority(nice: number): void {
  if (nice <= 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    os.setPriority(tid, nice);
  } catch {
    // Not Linux-like enough, or not permitted: the default priority is still correct, only slower.
  }
}

const data = workerData as MemoryThreadData;
lowerPriority(data.nice ?? 0);
const db = openContactMemoryDb({ databaseUrl: data.databaseUrl, sqlitePath: data.sqlitePath });
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
 * once per batch (3× cheaper per row at 5,000 rows than at 200). A confirm resolves only once its rows are
 * committed. How long one may wait depends on its caller:
 * - a stream's flush waits for its confirm: committed within 20 ms, at once when it comes alone;
 * - a batch run's lane does not (`background`; only its checkpoint waits, src/delivery/process-page.ts):
 *   held up to 250 ms, so a run at full speed commits a few thousand rows at a time.
 * A group is committed as soon as it holds 5,000 rows, and before any other call (reads see every confirm).
 */
const CONFIRM_WINDOW_MS = 20;
const BACKGROUND_WINDOW_MS = 250;
const CONFIRM_GROUP_ROWS = 5_000;
let confirms: MemoryCall[] = [];
let confirmRows = 0;
let timer: NodeJS.Timeout | undefined;
/** When the pending group must be committed at the latest (the earliest of its calls' deadlines). */
let deadline = Infinity;
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
  deadline = Infinity;
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
    const now = Date.now();
    const background = call.args[3] === true;
    confirms.push(call);
    confirmRows += (call.args[2] as unknown[]).length;
    // A lone waited-for confirm (a quiet stream) is committed at once; one of a stream of them waits for the group.
    const lone = !background && now - lastConfirmAt > CONFIRM_WINDOW_MS;
    lastConfirmAt = now;
    if (lone || confirmRows >= CONFIRM_GROUP_ROWS) return flushConfirms();
    const latest = now + (background ? BACKGROUND_WINDOW_MS : CONFIRM_WINDOW_MS);
    if (latest < deadline) {
      deadline = latest;
      if (timer) clearTimeout(timer);
      timer = setTimeout(flushConfirms, latest - now);
    }
    return;
  }
  // Reads and other writes see every confirm sent before them.
  flushConfirms();
  serially(async () => reply(await answer(call)));
});
