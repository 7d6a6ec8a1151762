import { StreamState } from '../../../workflows/stream-state';
import { emptyFlushCounts, type BufferedUpdate, type StreamInput, type StreamUpdate } from '../../../src/streaming/types';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const input = (extra: Partial<StreamInput> = {}): StreamInput => ({
  destinationId: 'd1',
  options: { batchSize: 2, maxLatencyMs: 1000 },
  ...extra,
});
const update = (e: string, t: number, v: Record<string, unknown> = {}): StreamUpdate => ({ e, t, s: { A: 'realized' }, v });

describe('StreamState', () => {
  test('receive decodes, numbers and merges updates; malformed ones are counted as ignored', () => {
    const s = new StreamState(input(), [], T0);
    s.receive(
      { at: T0 - 50, updates: [update('a@x.com', 1, { city: 'Lyon' }), update('a@x.com', 2, { first: 'Ana' }), update('b@x.com', 1)] },
      T0,
    );
    s.receive({ at: T0, updates: [update('b@x.com', 0), 42, { t: 'soon' }, null] as unknown as StreamUpdate[] }, T0);
    const stats = s.stats(7);
    expect(stats).toMatchObject({ received: 7, merged: 1, stale: 1, ignored: 3, buffered: 2, historyLength: 7, state: 'running' });
    expect(stats.ignoredByReason).toEqual({ MALFORMED_UPDATE: 3 });
    // The signal's `at` (never in the future) is the receipt time the deadline runs from.
    expect(stats.oldestBufferedAt).toBe(new Date(T0 - 50).toISOString());
  });

  test('a full batch can flush at once; a partial one only at its latency bound', () => {
    const s = new StreamState(input(), [], T0);
    s.receive({ at: T0, updates: [update('a@x.com', 1)] }, T0);
    expect(s.canFlush(T0)).toBe(false);
    expect(s.dueAt()).toBe(T0 + 1000);
    expect(s.canFlush(T0 + 1000)).toBe(true);
    s.receive({ at: T0, updates: [update('b@x.com', 1)] }, T0);
    expect(s.canFlush(T0)).toBe(true);
  });

  test('a flush batch goes out in wire-compatible named form and is counted when settled', () => {
    const s = new StreamState(input(), [], T0);
    s.receive({ at: T0, updates: [update('a@x.com', 1, { city: 'Lyon' }), update('b@x.com', 2)] }, T0);
    const { id, batch } = s.startFlush();
    expect(batch.map((u) => [u.email, u.seq, u.receivedAt])).toEqual([
      ['a@x.com', 1, T0],
      ['b@x.com', 2, T0],
    ]);
    expect(s.stats(0)).toMatchObject({ buffered: 0, inFlight: 2, flushesInFlight: 1 });
    s.settle(batch, { ...emptyFlushCounts(), sent: 2, created: 2 }, T0 + 5);
    const wakeups = s.wakeups;
    s.endFlush(id);
    expect(s.wakeups).toBe(wakeups + 1);
    expect(s.stats(0)).toMatchObject({
      sent: 2,
      created: 2,
      flushes: 1,
      inFlight: 0,
      flushesInFlight: 0,
      lastFlushAt: new Date(T0 + 5).toISOString(),
    });
  });

  test('giveBack returns an unsent batch to the buffer under the merge rules', () => {
    const s = new StreamState(input(), [], T0);
    s.receive({ at: T0, updates: [update('a@x.com', 10, { city: 'Lyon' })] }, T0);
    const { id, batch } = s.startFlush();
    s.receive({ at: T0 + 1, updates: [update('a@x.com', 20, { city: 'Brno' })] }, T0 + 1);
    s.giveBack(batch);
    s.endFlush(id);
    expect(s.stats(0)).toMatchObject({ buffered: 1, inFlight: 0, merged: 1, sent: 0 });
  });

  test('pause stops flushing; an operator pause disarms the lag alert, an error pause does not', () => {
    const s = new StreamState(input({ options: { batchSize: 1, lagAlertMs: 5000 } }), [], T0);
    s.receive({ at: T0, updates: [update('a@x.com', 1)] }, T0);
    expect(s.lagAlertAt()).toBe(T0 + 5000);
    s.pauseByOperator();
    expect(s.canFlush(T0)).toBe(false);
    expect(s.stats(0)).toMatchObject({ state: 'paused', pausedReason: 'Paused by an operator' });
    expect(s.lagAlertAt()).toBe(Infinity);
    s.resume();
    s.pauseOnError('HubSpotAuthFailed: bad token');
    expect(s.canFlush(T0)).toBe(false);
    expect(s.lagAlertAt()).toBe(T0 + 5000);
  });

  test('the lag alert fires once per crossing and re-arms under half the threshold', () => {
    const s = new StreamState(input({ options: { lagAlertMs: 2000 } }), [], T0);
    s.receive({ at: T0, updates: [update('a@x.com', 1)] }, T0);
    expect(s.takeLagAlert(T0 + 1999)).toBeUndefined();
    expect(s.takeLagAlert(T0 + 2000)).toEqual({ key: 'lag-1', lagMs: 2000, thresholdMs: 2000, buffered: 1, paused: false });
    expect(s.takeLagAlert(T0 + 3000)).toBeUndefined();
    const { id, batch } = s.startFlush();
    s.settle(batch, { ...emptyFlushCounts(), sent: 1 }, T0 + 3000);
    s.endFlush(id);
    s.takeLagAlert(T0 + 3000); // nothing pending: lag 0 re-arms
    s.receive({ at: T0 + 4000, updates: [update('b@x.com', 1)] }, T0 + 4000);
    expect(s.takeLagAlert(T0 + 6000)?.key).toBe('lag-2');
  });

  test('configure clamps options and wakes the loop', () => {
    const s = new StreamState(input(), [], T0);
    s.configure({ batchSize: 1000, maxLatencyMs: 50 });
    expect(s.options).toMatchObject({ batchSize: 100, maxLatencyMs: 50 });
    expect(s.wakeups).toBe(1);
  });

  test('nextRun carries counters, pause and the buffer in wire form; the next run picks them up', () => {
    const s = new StreamState(input(), [], T0);
    s.receive({ at: T0, updates: [update('a@x.com', 1, { city: 'Lyon' }), { t: 3, s: {}, v: {}, x: 'MISSING_EMAIL' }] }, T0);
    s.pauseByOperator('maintenance');
    const [next, ...chunks] = s.nextRun();
    expect(next.carry).toMatchObject({
      paused: true,
      pausedReason: 'maintenance',
      pausedBy: 'operator',
      nextSeq: 3,
      runsSoFar: 1,
      held: true,
    });
    expect(chunks.flat()).toEqual([
      { e: 'a@x.com', t: 1, s: { A: 'realized' }, v: { city: 'Lyon' }, n: 1, r: T0 },
      { t: 3, s: {}, v: {}, x: 'MISSING_EMAIL', n: 2, r: T0 },
    ]);
    const after = new StreamState(next, chunks, T0 + 10_000);
    expect(after.runs).toBe(2);
    expect(after.startedAt).toBe(new Date(T0).toISOString());
    expect(after.stats(0)).toMatchObject({ received: 2, buffered: 2, state: 'paused', pausedReason: 'maintenance' });
    after.receive({ at: T0 + 10_000, updates: [update('c@x.com', 1)] }, T0 + 10_000);
    expect((after.nextRun()[1] as BufferedUpdate[]).find((u) => u.e === 'c@x.com')?.n).toBe(3);
  });
});
