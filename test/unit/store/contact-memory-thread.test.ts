/**
 * The SQLite contact memory on its own thread answers as the in-thread one does, on the same database
 * file: what one confirms the other reads, errors come back as rejections, and a closed thread refuses calls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqlContactMemory } from '../../../src/store/contact-memory';
import { startContactMemoryThread, type ThreadedContactMemory } from '../../../src/store/contact-memory-thread';
import { openDb, type Db } from '../../../src/store/db';
import { migrate } from '../../../src/store/schema';

let db: Db;
let threaded: ThreadedContactMemory;
let direct: SqlContactMemory;

beforeAll(async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hsd-memthread-')), 'store.db');
  db = openDb({ sqlitePath: file });
  await migrate(db);
  direct = new SqlContactMemory(db);
  threaded = startContactMemoryThread(file);
});
afterAll(async () => {
  await threaded.close();
  await db.close();
});

test('confirms on the thread are read on the main connection, and the other way round', async () => {
  await threaded.confirm('dest-1', [
    { keyHash: 'k1', fingerprint: 'fp1', recordId: '101', statuses: { 'aud-a': 'realized' } },
    { keyHash: 'k2', fingerprint: 'fp2', recordId: '102', statuses: { 'aud-a': 'existing', 'aud-b': 'exited' } },
  ]);
  const seen = await direct.lookup('dest-1', ['k1', 'k2', 'k3']);
  expect([...seen.keys()].sort()).toEqual(['k1', 'k2']);
  expect(seen.get('k2')).toEqual({
    keyHash: 'k2',
    fingerprint: 'fp2',
    recordId: '102',
    statuses: { 'aud-a': 'existing', 'aud-b': 'exited' },
  });

  await direct.confirm('dest-1', [{ keyHash: 'k1', fingerprint: 'fp1b', statuses: { 'aud-b': 'realized' } }]);
  const back = await threaded.lookup('dest-1', ['k1']);
  expect(back.get('k1')).toEqual({
    keyHash: 'k1',
    fingerprint: 'fp1b',
    recordId: '101',
    statuses: { 'aud-a': 'realized', 'aud-b': 'realized' },
  });
  expect(await threaded.count('dest-1')).toBe(2);
});

test('a failing call rejects with its message; calls after it still work', async () => {
  await expect(threaded.pageAbsentMembers('dest-1', '__proto__ x', 'run-1', '', 10)).rejects.toThrow(/not a plain id/);
  await threaded.markSeen('dest-1', 'run-1', ['k1']);
  const absent = await threaded.pageAbsentMembers('dest-1', ['aud-a'], 'run-1', '', 10);
  expect(absent.map((r) => r.keyHash)).toEqual(['k2']);
});

test('a closed thread refuses calls', async () => {
  const other = startContactMemoryThread(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hsd-memthread-')), 'x.db'));
  await other.close();
  await expect(other.count('dest-1')).rejects.toThrow(/closed/);
});

test('a merged contact’s new record id is written through the thread', async () => {
  await threaded.confirm('dest-ids', [{ keyHash: 'm1', fingerprint: 'fp', recordId: '201' }]);
  await threaded.updateRecordIds('dest-ids', [{ keyHash: 'm1', recordId: '301' }]);
  expect((await direct.lookup('dest-ids', ['m1'])).get('m1')?.recordId).toBe('301');
});
