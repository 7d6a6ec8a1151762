/**
 * Two connections to one SQLite file (an API and a worker process): while one holds the write lock, the
 * other's writes wait for it without sleeping the event loop (timers keep firing), then succeed.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { openDb } from '../../../src/store/db';
import { tempDir } from '../../helpers/stack';

test('a write waiting for another connection’s lock waits asynchronously, then succeeds', async () => {
  const file = path.join(tempDir('hsd-busy-'), 'store.db');
  const db = openDb({ sqlitePath: file });
  await db.exec('CREATE TABLE t (n INTEGER)');
  const other = new Database(file);
  other.pragma('journal_mode = WAL');
  other.exec('BEGIN IMMEDIATE');
  other.exec('INSERT INTO t (n) VALUES (1)');

  const ticks: number[] = [];
  const ticker = setInterval(() => ticks.push(Date.now()), 5);
  const started = Date.now();
  const release = setTimeout(() => other.exec('COMMIT'), 300);
  await db.query('INSERT INTO t (n) VALUES ($1)', [2]);
  const waited = Date.now() - started;
  clearInterval(ticker);
  clearTimeout(release);

  expect(waited).toBeGreaterThanOrEqual(250);
  // The event loop served timers all along: no gap near the 300 ms the lock was held.
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
  expect(Math.max(...gaps)).toBeLessThan(100);
  expect(await db.query<{ n: number }>('SELECT n FROM t ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);
  // Locked transactions (BEGIN IMMEDIATE) wait the same way.
  other.exec('BEGIN IMMEDIATE');
  setTimeout(() => other.exec('COMMIT'), 100);
  expect(await db.updateLocked('k', () => ({ next: 'v', result: 'done' }))).toBe('done');
  other.close();
  await db.close();
});
