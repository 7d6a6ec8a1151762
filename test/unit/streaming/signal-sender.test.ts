/**
 * How the API groups updates into signals (src/streaming/signal-sender.ts): one signal in flight per
 * destination, and under load at least `minIntervalMs` between two signals, so that each carries more
 * updates; a lone update goes at once.
 */
import type { Client } from '@temporalio/client';
import { StreamSignalSender, type LoggedUpdate } from '../../../src/streaming/signal-sender';
import type { ProfilesSignal } from '../../../src/streaming/types';

const target = { destinationId: 'dest-1', destinationName: 'Test' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Temporal client whose signalWithStart records each signal and answers after `rpcMs`. */
function fakeClient(rpcMs: number) {
  const signals: Array<{ at: number; updates: number }> = [];
  const client = {
    workflow: {
      signalWithStart: async (_wf: unknown, options: { signalArgs: [ProfilesSignal] }) => {
        signals.push({ at: Date.now(), updates: String(options.signalArgs[0].refs).split(',').length });
        await sleep(rpcMs);
      },
    },
  } as unknown as Client;
  return { client, signals };
}

function update(seq: number): LoggedUpdate {
  return { seq, key: `key${seq}`.padEnd(12, 'x'), t: Date.now() };
}

/** Sends one update at each of the given times (ms from now); resolves when all were accepted. */
async function sendAt(sender: StreamSignalSender, times: number[]): Promise<void> {
  const sent: Array<Promise<void>> = [];
  const start = Date.now();
  for (const [i, t] of times.entries()) {
    await sleep(Math.max(0, start + t - Date.now()));
    sent.push(sender.send(target, [update(i + 1)], Date.now()));
  }
  await Promise.all(sent);
}

describe('StreamSignalSender grouping', () => {
  // 60 updates 2 ms apart: requests keep waiting whenever a signal returns (5 ms), as under load.
  const steady = Array.from({ length: 60 }, (_, i) => i * 2);

  test('under load, updates arriving within the interval after a signal share the next one', async () => {
    const { client, signals } = fakeClient(5);
    const sender = new StreamSignalSender({ client, taskQueue: 'q', defaults: {}, inFlight: 1, minIntervalMs: 50 });
    await sendAt(sender, steady);
    // The first goes at once, then one signal per 50 ms carries what arrived meanwhile (about 25).
    expect(signals.reduce((n, s) => n + s.updates, 0)).toBe(60);
    expect(signals.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < signals.length; i++) expect(signals[i].at - signals[i - 1].at).toBeGreaterThanOrEqual(45);
  });

  test('without an interval, a signal leaves as soon as the one before it returned', async () => {
    const { client, signals } = fakeClient(5);
    const sender = new StreamSignalSender({ client, taskQueue: 'q', defaults: {}, inFlight: 1, minIntervalMs: 0 });
    await sendAt(sender, steady);
    expect(signals.reduce((n, s) => n + s.updates, 0)).toBe(60);
    expect(signals.length).toBeGreaterThanOrEqual(8);
  });

  test('a request of many updates is not slowed: full signals leave without waiting out the interval', async () => {
    const { client, signals } = fakeClient(5);
    const sender = new StreamSignalSender({ client, taskQueue: 'q', defaults: {}, inFlight: 1, minIntervalMs: 1_000 });
    const t0 = Date.now();
    await sender.send(
      target,
      Array.from({ length: 1_000 }, (_, i) => update(i + 1)),
      t0,
    );
    // About 100 references a signal: ten signals, one after the other. Only the last, partly filled, may
    // wait out the interval once (waiting before each would take 9 s).
    expect(signals.reduce((n, s) => n + s.updates, 0)).toBe(1_000);
    expect(signals.length).toBeGreaterThanOrEqual(9);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  test('a lone update on an idle stream goes at once', async () => {
    const { client, signals } = fakeClient(5);
    const sender = new StreamSignalSender({ client, taskQueue: 'q', defaults: {}, inFlight: 1, minIntervalMs: 10_000 });
    const t0 = Date.now();
    await sender.send(target, [update(1)], t0);
    await sleep(50); // the first signal returned and nothing waits: the queue is idle again
    const t1 = Date.now();
    await sender.send(target, [update(2)], t1);
    expect(signals).toHaveLength(2);
    expect(signals[0].at - t0).toBeLessThan(1_000);
    expect(signals[1].at - t1).toBeLessThan(1_000);
  });
});
