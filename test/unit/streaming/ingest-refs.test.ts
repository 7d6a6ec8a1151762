/**
 * Streaming by reference (issue 15): the compact refs of the `profiles` signal, the buffer's rules on
 * references (merge order, stale rows to delete), the state's accounting of log rows, and the ingest
 * log itself on both stores (sealed rows, folding in merge order, deletion).
 */
import crypto from 'node:crypto';
import { createSealer } from '../../../src/secrets/sealer';
import { openDb, type Db } from '../../../src/store/db';
import { migrate } from '../../../src/store/schema';
import { StreamBuffer } from '../../../src/streaming/buffer';
import { loadReferenced, SqlIngestLog } from '../../../src/streaming/ingest-log';
import { refsSignal } from '../../../src/streaming/signal-sender';
import { emptyFlushCounts } from '../../../src/streaming/types';
import { ORPHAN_AGE_MS, ORPHAN_SWEEP_EVERY_MS } from '../../../src/streaming/orphans';
import type { PendingUpdate, StreamUpdate } from '../../../src/streaming/types';
import { fromWire, packSeqLists, readWireRefs, toWire, unpackCarry, unpackSeqLists } from '../../../src/streaming/wire';
import { StreamState } from '../../../workflows/stream-state';
import { createTempDatabase } from '../../helpers/postgres';

const sealer = createSealer({ primaryId: 'k1', keys: new Map([['k1', crypto.randomBytes(32)]]) });

describe('references in the profiles signal and the buffer', () => {
  test('a signal carries numbers relative to its smallest and times relative to `at`; decoding restores them', () => {
    const signal = refsSignal(5000, [
      { seq: 102, key: 'kA', t: 4990 },
      { seq: 101, key: '', t: 5000, problem: 'MISSING_EMAIL' },
    ]);
    // Packed: number − n : key : time − at [: M | I], comma-separated.
    expect(signal).toEqual({ at: 5000, n: 101, refs: '1:kA:-10,0::0:M' });
    const [a, b] = readWireRefs(signal, 4000);
    expect(a).toMatchObject({ key: 'kA', updatedAt: 4990, seq: 102, refs: [102], receivedAt: 4000 });
    expect(b).toMatchObject({ emailProblem: 'MISSING_EMAIL', seq: 101, refs: [101] });
    expect(readWireRefs({ at: 1, n: 1, refs: [['x'], null] }, 1)).toEqual([undefined, undefined]);
    expect(readWireRefs({ at: 1, n: 1, refs: 'x:k:1,1:k,2:k:y' }, 1)).toEqual([undefined, undefined, undefined]);
    const lists = [[105, 107], [104], [110]];
    expect(packSeqLists(lists)).toEqual({ from: 104, packed: '1+3,0,6' });
    expect(unpackSeqLists(104, '1+3,0,6')).toEqual(lists);
  });

  test('same key: newer merges (rows folded in order), late older is stale and its row is to be deleted; carry keeps them', () => {
    const b = new StreamBuffer();
    const [u1, u2, u3] = readWireRefs(
      refsSignal(0, [
        { seq: 1, key: 'k', t: 10 },
        { seq: 2, key: 'k', t: 20 },
        { seq: 3, key: 'k', t: 5 },
      ]),
      0,
    );
    expect([b.add(u1!), b.add(u2!), b.add(u3!)]).toEqual(['added', 'merged', 'stale']);
    expect(b.snapshot()).toEqual([expect.objectContaining({ key: 'k', updatedAt: 20, refs: [1, 2] })]);
    expect(b.dropped).toEqual([3]);
    const carried = b.snapshot().map(toWire).map(fromWire);
    expect(carried[0]).toMatchObject({ key: 'k', refs: [1, 2] });
  });
});

describe('StreamState and log rows', () => {
  test('accounted rows (sent, stale) go with the next flush, or are carried by continue-as-new', () => {
    const state = new StreamState({ destinationId: 'd1' }, [], 0);
    state.receive(
      refsSignal(0, [
        { seq: 7, key: 'a', t: 10 },
        { seq: 8, key: 'a', t: 1 },
        { seq: 9, key: 'b', t: 10 },
      ]),
      0,
    );
    expect(state.stats(1)).toMatchObject({ received: 3, stale: 1, buffered: 2 });
    state.flushWhenIdle = true;
    expect(state.canFlush(0)).toBe(true); // nothing in flight: no wait for the latency bound
    const first = state.startFlush();
    expect(first.batch.map((u) => u.refs)).toEqual([[7], [9]]);
    expect(first.done).toEqual([8]);
    state.settle(
      first.batch,
      {
        sent: 2,
        created: 2,
        updated: 0,
        rejected: 0,
        rejectedByReason: {},
        ignored: 0,
        ignoredByReason: {},
        stale: 0,
        unchanged: 0,
        ignoredStatuses: 0,
      },
      1,
    );
    state.endFlush(first.id);
    const [next] = state.nextRun();
    expect(next.carry?.remove).toEqual([7, 9]);
    expect(new StreamState(next, [], 2).startFlush().done).toEqual([7, 9]);
  });
});

describe.each(['sqlite', 'pg'] as const)('SqlIngestLog (%s)', (kind) => {
  let db: Db;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (kind === 'pg') {
      const temp = await createTempDatabase();
      drop = temp.drop;
      db = openDb({ databaseUrl: temp.url, sqlitePath: '' });
    } else db = openDb({ sqlitePath: ':memory:' });
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
    await drop?.();
  });

  test('rows are sealed, numbered in order, folded in merge order and deleted', async () => {
    const log = new SqlIngestLog(db, sealer);
    const u = (t: number, v: Record<string, unknown>): StreamUpdate => ({ e: 'ana@example.com', t, s: { A: 'realized' }, v });
    const seqs = await log.append('d1', [u(1, { city: 'Lyon', first: 'Ana' }), u(2, { city: 'Brno' }), u(3, { last: 'Silva' })]);
    expect(seqs).toHaveLength(3);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const raw = await db.query<{ sealed_update: string }>('SELECT sealed_update FROM stream_ingest');
    for (const r of raw) expect(r.sealed_update).not.toMatch(/example|Lyon|Brno|Silva/);

    const { updates, missing } = await loadReferenced(log, 'd1', [[seqs[0], seqs[1]], [seqs[2]], [999_999]]);
    expect(missing).toBe(1);
    expect(updates[0]).toMatchObject({
      email: 'ana@example.com',
      updatedAt: 2,
      values: { city: 'Brno', first: 'Ana' },
      seq: seqs[1],
      refs: [seqs[0], seqs[1]],
    });
    expect(updates[1]).toMatchObject({ values: { last: 'Silva' }, seq: seqs[2] });
    // Another destination cannot read them (rows are bound to theirs).
    expect((await log.read('d2', seqs)).size).toBe(0);

    await log.remove('d1', [seqs[0], seqs[1]]);
    expect(await log.count('d1')).toBe(1);
  });

  test('sweep deletes only rows of the destination below the number and older than the time', async () => {
    const log = new SqlIngestLog(db, sealer);
    const u: StreamUpdate = { e: 'bo@example.com', t: 1, s: {}, v: {} };
    const [a, b, c] = await log.append('s1', [u, u, u]);
    const [other] = await log.append('s2', [u]);
    await db.query('UPDATE stream_ingest SET created_ms = 1000 WHERE seq IN ($1, $2, $3)', [a, b, other]);
    expect(await log.sweep('s1', c + 1, 2000)).toBe(2); // a, b: old enough; c: too young
    expect((await log.read('s1', [a, b, c])).size).toBe(1);
    expect(await log.sweep('s1', c + 1, Date.now() + 1000)).toBe(1);
    expect(await log.sweep('s2', other, 2000)).toBe(0); // not below
    expect(await log.count('s2')).toBe(1);
  });
});

describe('StreamBuffer oldest-time caches', () => {
  test('match a full scan after every add, merge, stale, take, release and restore', () => {
    const b = new StreamBuffer();
    const scan = () => {
      const all = b.snapshot().map((u) => u.receivedAt);
      return all.length ? Math.min(...all) : undefined;
    };
    let seq = 0;
    const ref = (key: string, t: number, receivedAt: number): PendingUpdate => {
      seq++;
      return { key, updatedAt: t, statuses: {}, values: {}, seq, receivedAt, refs: [seq] };
    };
    const taken: Array<ReturnType<StreamBuffer['take']>> = [];
    for (let i = 0; i < 200; i++) {
      const op = (i * 7919) % 5;
      if (op < 3) b.add({ ...ref(`k${(i * 31) % 17}`, (i * 13) % 29, 1000 - ((i * 17) % 50)) });
      else if (op === 3) taken.push(b.take(3));
      else if (taken.length) {
        const batch = taken.shift()!;
        b.release(batch);
        if (i % 2) b.restore(batch);
      }
      expect(b.oldestAt()).toBe(scan());
      const ready = b.snapshot().filter((u) => !taken.flat().some((t) => `~${t.key}` === `~${u.key}`));
      expect(b.oldestReadyAt()).toBe(ready.length ? Math.min(...ready.map((u) => u.receivedAt)) : undefined);
    }
  });

  test('orphan sweep: the first flush of a run and then once a minute, below every number the stream still refers to', () => {
    const state = new StreamState({ destinationId: 'd1', options: { batchSize: 1, maxConcurrentFlushes: 4 } }, [], 0);
    const now = 1_000_000_000;
    state.receive(
      refsSignal(0, [
        { seq: 30, key: 'a', t: 1 },
        { seq: 20, key: 'b', t: 1 },
        { seq: 25, key: 'c', t: 1 },
      ]),
      now,
    );
    const first = state.startFlush(now); // takes one; 20 is still buffered or in flight
    expect(first.sweep).toEqual({ below: 20, before: now - ORPHAN_AGE_MS });
    expect(state.startFlush(now + 1).sweep).toBeUndefined(); // not again within the minute
    state.settle(first.batch, emptyFlushCounts(), now + 2);
    state.endFlush(first.id);
    // Everything taken: in flight (or accounted, to delete) still counts.
    expect(state.startFlush(now + ORPHAN_SWEEP_EVERY_MS).sweep?.below).toBe(20);
  });

  test('orphan sweep with nothing referred to: every row old enough', () => {
    const state = new StreamState({ destinationId: 'd1' }, [], 0);
    expect(state.startFlush(5 * ORPHAN_AGE_MS).sweep).toEqual({ below: Number.MAX_SAFE_INTEGER, before: 4 * ORPHAN_AGE_MS });
  });

  test('continue-as-new carries updates by reference packed (≈ 30 characters each), and back whole', () => {
    const state = new StreamState({ destinationId: 'd1' }, [], 0);
    const refs = Array.from({ length: 4000 }, (_, i) => ({
      seq: 1_000_000 + i,
      key: `k${String(i).padStart(11, '0')}`,
      t: 1_700_000_000_000 + i,
    }));
    for (let i = 0; i < refs.length; i += 100) state.receive(refsSignal(1_700_000_000_000, refs.slice(i, i + 100)), 1_700_000_000_500);
    state.receive(
      refsSignal(1_700_000_000_000, [
        { seq: 1_000_000, key: 'k00000000000', t: 1_700_000_000_001 },
        { seq: 2_000_000, key: '', t: 5, problem: 'INVALID_EMAIL' },
      ]),
      1_700_000_000_600,
    );
    const [input, ...carried] = state.nextRun();
    expect(carried.every((c) => typeof c === 'string')).toBe(true);
    expect(carried.join('').length / 4001).toBeLessThan(35);
    const next = new StreamState(input, carried, 1_700_000_001_000);
    expect(next.stats(0).buffered).toBe(4001);
    const [, ...again] = next.nextRun();
    expect(again).toEqual(carried);
    expect(unpackCarry(carried[0] as string)[0]).toMatchObject({
      key: 'k00000000000',
      refs: [1_000_000, 1_000_000],
      updatedAt: 1_700_000_000_001,
    });
    expect(unpackCarry(carried[carried.length - 1] as string).pop()).toMatchObject({
      emailProblem: 'INVALID_EMAIL',
      refs: [2_000_000],
      seq: 2_000_000,
    });
  });
});
