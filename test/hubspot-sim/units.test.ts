/** Unit tests of the simulator's time arithmetic and limit tables. */
import { PortalRateLimiter } from '../../src/hubspot-sim/limits/rate-limiter';
import { limitsFor, normalisePacks } from '../../src/hubspot-sim/limits/tiers';
import { SlidingMax, TimeWindow } from '../../src/hubspot-sim/limits/time-window';
import { formatOffset, nextMidnight, utcOffsetMs } from '../../src/hubspot-sim/limits/timezone';

describe('TimeWindow', () => {
  test('counts events inside the window; the boundary is exclusive', () => {
    const w = new TimeWindow(10_000, 2);
    for (const t of [0, 1000, 2000, 9999]) w.push(t);
    expect(w.count(9999)).toBe(4);
    expect(w.count(10_000)).toBe(3);
    expect(w.oldest()).toBe(1000);
    expect(w.count(20_000)).toBe(0);
    expect(w.oldest()).toBeUndefined();
  });

  test('grows past its initial capacity while wrapped around', () => {
    const w = new TimeWindow(100, 4);
    for (let t = 0; t < 1000; t++) {
      w.push(t);
      expect(w.count(t)).toBe(Math.min(t + 1, 100));
    }
  });
});

describe('SlidingMax', () => {
  test('finds the busiest 10-second window among arrivals', () => {
    const m = new SlidingMax(10_000);
    // 3 early, then a burst of 5 within 2 s, then sparse.
    for (const t of [0, 4000, 8000, 20_000, 20_500, 21_000, 21_500, 22_000, 40_000, 55_000]) m.record(t);
    expect(m.max).toBe(5);
  });

  test('a window spanning two bursts counts both', () => {
    const m = new SlidingMax(10_000);
    for (const t of [0, 1, 2, 9000, 9001, 9002, 9003]) m.record(t);
    expect(m.max).toBe(7);
  });
});

describe('time zones', () => {
  test.each([
    ['US/Eastern', Date.UTC(2025, 6, 1, 12), '2025-07-02T04:00:00.000Z'],
    ['US/Eastern', Date.UTC(2025, 0, 15, 12), '2025-01-16T05:00:00.000Z'],
    // DST starts at 02:00 on 9 March 2025: the midnight before is EST, the one after is EDT.
    ['US/Eastern', Date.UTC(2025, 2, 9, 3), '2025-03-09T05:00:00.000Z'],
    ['US/Eastern', Date.UTC(2025, 2, 9, 12), '2025-03-10T04:00:00.000Z'],
    // DST ends at 02:00 on 2 November 2025.
    ['US/Eastern', Date.UTC(2025, 10, 2, 3), '2025-11-02T04:00:00.000Z'],
    ['US/Eastern', Date.UTC(2025, 10, 2, 12), '2025-11-03T05:00:00.000Z'],
    ['Asia/Kolkata', Date.UTC(2025, 6, 1, 12), '2025-07-01T18:30:00.000Z'],
    ['UTC', Date.UTC(2025, 6, 1, 23, 59, 59), '2025-07-02T00:00:00.000Z'],
    ['Pacific/Auckland', Date.UTC(2025, 6, 1, 12), '2025-07-02T12:00:00.000Z'],
  ])('next midnight in %s after %s', (zone, t, expected) => {
    expect(new Date(nextMidnight(zone, t)).toISOString()).toBe(expected);
  });

  test('just before and exactly at midnight', () => {
    const midnight = Date.UTC(2025, 6, 2, 4);
    expect(nextMidnight('US/Eastern', midnight - 1)).toBe(midnight);
    expect(nextMidnight('US/Eastern', midnight)).toBe(midnight + 24 * 3600 * 1000);
  });

  test('offsets', () => {
    expect(utcOffsetMs('US/Eastern', Date.UTC(2025, 6, 1))).toBe(-4 * 3600 * 1000);
    expect(formatOffset(-4 * 3600 * 1000)).toBe('-04:00');
    expect(formatOffset(5.5 * 3600 * 1000)).toBe('+05:30');
  });
});

describe('tiers', () => {
  test('packs lift the burst to 250 (not stacking) and add 1M/day each, at most 2', () => {
    expect(limitsFor('free', 0)).toEqual({ tenSecondly: 100, daily: 250_000 });
    expect(limitsFor('pro', 1)).toEqual({ tenSecondly: 250, daily: 1_625_000 });
    expect(limitsFor('enterprise', 2)).toEqual({ tenSecondly: 250, daily: 3_000_000 });
    expect(limitsFor('pro', 0, { pro: { daily: 650_000 } })).toEqual({ tenSecondly: 190, daily: 650_000 });
    expect([normalisePacks(true), normalisePacks(false), normalisePacks(5), normalisePacks(undefined)]).toEqual([1, 0, 2, 0]);
  });
});

describe('PortalRateLimiter', () => {
  test('check does not consume; daily before ten-secondly before search', () => {
    const l = new PortalRateLimiter({ tenSecondly: 2, daily: 3, searchPerSecond: 1, timeZone: 'UTC', now: 0 });
    expect(l.check(0, true)).toBeNull();
    expect(l.check(0, true)).toBeNull();
    l.consume(0, true);
    expect(l.check(1, true)?.policy).toBe('SECONDLY');
    expect(l.check(1, false)).toBeNull();
    l.consume(1, false);
    expect(l.check(2, false)?.policy).toBe('TEN_SECONDLY_ROLLING');
    l.consume(20_000, false);
    expect(l.check(20_001, false)?.policy).toBe('DAILY');
    expect(l.info(20_001)).toMatchObject({ dailyUsed: 3, dailyRemaining: 0, dailyResetsAt: '1970-01-02T00:00:00.000Z' });
  });
});
