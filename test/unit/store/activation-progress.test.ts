/** The store's read-only progress view (what the API shows) over the page activity's checkpoints. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emptyCounts } from '../../../src/delivery/counts';
import { CheckpointStore } from '../../../src/store/checkpoints';
import { openDb, type Db } from '../../../src/store/db';
import { migrate } from '../../../src/store/schema';

let dir: string;
let db: Db;
let store: CheckpointStore;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'progress-'));
  db = openDb({ sqlitePath: path.join(dir, 'test.db') });
  await migrate(db);
  store = new CheckpointStore(db);
});
afterAll(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('nothing before the run writes its first checkpoint', async () => {
  expect(await store.activationProgress('act-none', 0)).toBeUndefined();
});

test("completed pages exactly, plus the page in progress by its delivered batches, of that run's offset only", async () => {
  const pages = { ...emptyCounts(), received: 250, upserted: 240, created: 200, updated: 40, rejected: 5, skipped: 5 };
  const batch = { ...emptyCounts(), upserted: 98, created: 98, rejected: 2, rejectedByReason: { INVALID_EMAIL: 2 } };
  await store.put('act-1', 1000, {
    cursor: { offset: 5000, line: 251 },
    pagesDone: 1,
    counts: pages,
    page: { done: { 0: batch } },
  });
  await store.put('act-1', 0, {
    cursor: { offset: 1000, line: 1 },
    pagesDone: 9,
    counts: { ...emptyCounts(), received: 9 },
    page: { done: {} },
  });
  expect(await store.activationProgress('act-1', 1000)).toEqual({
    ...pages,
    received: 350,
    upserted: 338,
    created: 298,
    rejected: 7,
    rejectedByReason: { INVALID_EMAIL: 2 },
  });
});
