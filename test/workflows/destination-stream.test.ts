/** destinationStream on the time-skipping test server with fake activities: flushing, pause on failure, rejection, continue-as-new. */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  emptyFlushCounts,
  type FlushCounts,
  type FlushStreamInput,
  type RejectStreamInput,
  type StreamOptions,
  type StreamUpdate,
} from '../../src/streaming/types';
import { destinationStream, HANDOFF_SETTLE_IN_HOLD_MS } from '../../workflows/destination-stream';
import { pauseStreamSignal, profilesSignal, resumeStreamSignal, streamStatsQuery } from '../../workflows/messages';
import { eventually, startTimeSkipping, withWorker, type FakeActivities } from './time-skipping';

jest.setTimeout(60_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkipping();
});
afterAll(async () => {
  await env?.teardown();
});

let seq = 0;
const update = (e: string, v: Record<string, unknown> = {}): StreamUpdate => ({ e, t: 1000, s: { A: 'realized' }, v });
const sent = (n: number): FlushCounts => ({ ...emptyFlushCounts(), sent: n, created: n });

interface Recorder {
  activities: FakeActivities;
  flushes: FlushStreamInput[];
  rejects: RejectStreamInput[];
  holds: number;
  holdInputs: Array<{ destinationId: string; forMs: number; settleMs?: number }>;
  releases: number;
}

/** Flushes that succeed unless `failFlush` throws; holds and releases counted. */
function fakes(failFlush?: (call: number) => void): Recorder {
  const r: Recorder = { activities: {}, flushes: [], rejects: [], holds: 0, holdInputs: [], releases: 0 };
  r.activities = {
    flushStreamBatch: async (input: FlushStreamInput) => {
      r.flushes.push(input);
      failFlush?.(r.flushes.length);
      return sent(input.updates.length);
    },
    rejectStreamBatch: async (input: RejectStreamInput) => {
      r.rejects.push(input);
      return { ...emptyFlushCounts(), rejected: input.updates.length, rejectedByReason: { [input.reason.code]: input.updates.length } };
    },
    holdStreamSignals: async (input: { destinationId: string; forMs: number; settleMs?: number }) => {
      r.holds++;
      r.holdInputs.push(input);
    },
    releaseStreamSignals: async () => void r.releases++,
  };
  return r;
}

async function withStream<T>(
  rec: Recorder,
  options: Partial<StreamOptions>,
  fn: (handle: Awaited<ReturnType<typeof env.client.workflow.start<typeof destinationStream>>>) => Promise<T>,
): Promise<T> {
  return withWorker(env, rec.activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(destinationStream, {
      taskQueue,
      workflowId: `stream-d${++seq}`,
      args: [{ destinationId: `d${seq}`, options }],
    });
    try {
      return await fn(handle);
    } finally {
      await handle.terminate('test over');
    }
  });
}

test('a full batch flushes at once, a partial one at once when no flush is in flight; malformed updates are ignored', async () => {
  const rec = fakes();
  // Lag alert and heartbeat timeout far beyond the skipped minute: only the latency bound is due then.
  await withStream(rec, { batchSize: 2, maxLatencyMs: 60_000, lagAlertMs: 3_600_000, heartbeatTimeoutMs: 600_000 }, async (handle) => {
    await handle.signal(profilesSignal, { at: Date.now(), updates: [update('a@x.com', { city: 'Lyon' }), update('b@x.com')] });
    await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.sent === 2,
    );
    await handle.signal(profilesSignal, { at: Date.now(), updates: [update('c@x.com'), 42 as unknown as StreamUpdate] });
    const waiting = await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.received === 4,
    );
    expect(waiting).toMatchObject({ ignored: 1, ignoredByReason: { MALFORMED_UPDATE: 1 } });
    // Nothing in flight: the partial batch goes at once, without waiting for the (one-minute) latency bound
    // (patch stream-flush-when-idle, issue 15).
    await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.sent === 3 && s.buffered === 0 && s.flushes === 2,
    );
  });
  // Activities get the compact wire form, numbered in order of receipt.
  expect(rec.flushes.map((f) => f.updates.map((u) => [u.e, u.n]))).toEqual([
    [
      ['a@x.com', 1],
      ['b@x.com', 2],
    ],
    [['c@x.com', 3]],
  ]);
  expect(rec.flushes[0].updates[0]).toMatchObject({ e: 'a@x.com', t: 1000, s: { A: 'realized' }, v: { city: 'Lyon' } });
});

test('a configuration failure pauses the stream with the updates kept; resume sends them', async () => {
  const rec = fakes((call) => {
    if (call === 1)
      throw ApplicationFailure.create({ type: 'HubSpotAuthFailed', message: 'HubSpot rejected the token', nonRetryable: true });
  });
  await withStream(rec, { batchSize: 1 }, async (handle) => {
    await handle.signal(profilesSignal, { at: Date.now(), updates: [update('a@x.com')] });
    const paused = await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.state === 'paused',
    );
    expect(paused).toMatchObject({ pausedReason: 'HubSpotAuthFailed: HubSpot rejected the token', buffered: 1, inFlight: 0, sent: 0 });
    await handle.signal(resumeStreamSignal);
    await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.state === 'running' && s.sent === 1 && s.buffered === 0,
    );
  });
  expect(rec.flushes.map((f) => f.updates.map((u) => u.n))).toEqual([[1], [1]]);
  expect(rec.rejects).toHaveLength(0);
});

test('another final failure stores the batch as rejected, with its reason', async () => {
  const rec = fakes(() => {
    throw ApplicationFailure.create({ type: 'HubSpotRequestInvalid', message: 'Property values were not valid', nonRetryable: true });
  });
  await withStream(rec, { batchSize: 1 }, async (handle) => {
    await handle.signal(profilesSignal, { at: Date.now(), updates: [update('a@x.com')] });
    const stats = await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.flushes === 1,
    );
    expect(stats).toMatchObject({ state: 'running', rejected: 1, rejectedByReason: { HubSpotRequestInvalid: 1 }, sent: 0, buffered: 0 });
  });
  expect(rec.rejects).toHaveLength(1);
  expect(rec.rejects[0].reason).toEqual({ code: 'HubSpotRequestInvalid', message: 'Property values were not valid' });
  expect(rec.rejects[0].updates.map((u) => u.e)).toEqual(['a@x.com']);
});

test('continue-as-new: the next run carries buffer and counters, holding signals for the handoff', async () => {
  const rec = fakes();
  await withStream(rec, { maxHistoryEvents: 100, maxLatencyMs: 3_600_000 }, async (handle) => {
    let signals = 0;
    // One signal per workflow task: the history grows past 100 events within about 30 signals.
    while ((await handle.query(streamStatsQuery)).runs === 1 && signals < 200) {
      await handle.signal(profilesSignal, { at: Date.now(), updates: [update(`u${++signals}@x.com`)] });
    }
    const next = await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.runs === 2 && s.received === signals,
    );
    expect(signals).toBeLessThan(200);
    // Flushes start at once when none is in flight (issue 15), so what the next run carries is the
    // counters and whatever was still buffered: every update is accounted for once.
    expect(next.sent + next.buffered + next.inFlight).toBe(signals);
    expect(next.historyLength).toBeLessThan(100);
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
    await eventually(
      async () => rec.releases,
      (n) => n === 1,
    );
  });
  expect(rec.holds).toBe(1);
  // Patch stream-quick-handoff: the settle runs inside the hold activity (decision 30).
  expect(rec.holdInputs[0]).toMatchObject({ forMs: 3000, settleMs: HANDOFF_SETTLE_IN_HOLD_MS });
});

test('a cancel request (Temporal CLI, Web UI) pauses the stream with its updates kept, not kills it; resume sends them', async () => {
  const rec = fakes();
  await withStream(rec, { batchSize: 1 }, async (handle) => {
    await handle.signal(pauseStreamSignal, { reason: 'hold' });
    await handle.signal(profilesSignal, { at: Date.now(), updates: [update('a@x.com')] });
    await handle.cancel();
    const paused = await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.state === 'paused' && /cancel/i.test(s.pausedReason ?? ''),
    );
    expect(paused.pausedReason).toMatch(/\/v1\/destinations\/d\d+\/stream\/resume/);
    expect(paused).toMatchObject({ buffered: 1, sent: 0 });
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.signal(resumeStreamSignal);
    await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.state === 'running' && s.sent === 1 && s.buffered === 0,
    );
    // Temporal keeps one cancel request per run: a second one changes nothing, the stream keeps running.
    await handle.cancel();
    await handle.signal(profilesSignal, { at: Date.now(), updates: [update('b@x.com')] });
    await eventually(
      () => handle.query(streamStatsQuery),
      (s) => s.sent === 2 && s.buffered === 0,
    );
    expect((await handle.describe()).status.name).toBe('RUNNING');
  });
  expect(rec.flushes.map((f) => f.updates.map((u) => u.e))).toEqual([['a@x.com'], ['b@x.com']]);
});
