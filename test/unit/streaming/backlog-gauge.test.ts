/**
 * The API's estimate of a stream's backlog between two reads (src/streaming/stream-stats.ts): the last
 * read, plus what this process admitted since, minus what the stream sent since at its measured pace.
 */
import { BacklogGauge, type StreamRead } from '../../../src/streaming/stream-stats';
import type { StreamStats } from '../../../src/streaming/types';

const D = 'dest-1';

/** A read of a stream that has received `received` updates and holds `backlog` of them unsent. */
function readOf(received: number, backlog: number): StreamRead {
  const stats = { received, buffered: backlog, inFlight: 0, bufferedBytes: backlog * 30 } as unknown as StreamStats;
  return { runId: 'run', historyLength: 100, historyBytes: 10_000, stats };
}

/** A gauge on a fake clock whose reads answer what the test queued, in order. */
function gauge() {
  let now = 0;
  const reads: Array<StreamRead | undefined> = [];
  const g = new BacklogGauge(
    async () => reads.shift(),
    1000,
    () => now,
  );
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    g,
    /** Advances the clock, asks for the backlog (starting a read when one is due) and lets the read answer. */
    async at(ms: number, next?: StreamRead) {
      now = ms;
      if (next !== undefined) reads.push(next);
      g.backlog(D);
      await settle();
      return g.backlog(D)?.updates;
    },
  };
}

describe('BacklogGauge between reads', () => {
  test('subtracts what the stream sent at the pace measured between the last two reads', async () => {
    const { g, at } = gauge();
    expect(await at(0, readOf(1_000, 2_000))).toBe(2_000);
    // 1 s later: 2,000 more received and 2,000 more processed: 2 updates a millisecond.
    expect(await at(1_000, readOf(3_000, 2_000))).toBe(2_000);
    g.admit(D, 1_000);
    // Half a second on, 1,000 admitted and about 1,000 sent: still about 2,000, not 3,000.
    expect(await at(1_500)).toBe(2_000);
  });

  test('never counts more sent than the read held, and keeps what was admitted since', async () => {
    const { g, at } = gauge();
    await at(0, readOf(0, 0));
    await at(1_000, readOf(2_000, 500)); // pace 1.5 / ms
    g.admit(D, 300);
    expect(await at(1_900)).toBe(300); // 500 held at the read, all sent by now; the 300 admitted stay
  });

  test('a stream started afresh (counters back at 0) gives no pace: the read plus what was admitted', async () => {
    const { g, at } = gauge();
    await at(0, readOf(50_000, 100));
    await at(1_000, readOf(3_000, 2_500)); // fewer processed than before: another chain of runs
    g.admit(D, 1_000);
    expect(await at(1_500)).toBe(3_500);
  });

  test('a read without stats (no worker answered) leaves the backlog unknown', async () => {
    const { at } = gauge();
    await at(0, readOf(1_000, 100));
    expect(await at(1_000, { runId: 'run', historyLength: 100, historyBytes: 10_000 })).toBeUndefined();
  });
});
