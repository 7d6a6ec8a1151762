/**
 * One portal's rate limits: HubSpot's rolling 10-second window, the daily budget (reset at midnight in
 * the portal's zone) and search's separate per-second limit. A request answered 429 consumes nothing.
 */
import type { LimitsInfo, RateLimitPolicy } from '../types';
import { TimeWindow } from './time-window';
import { nextMidnight } from './timezone';

export const INTERVAL_MS = 10_000;

export interface Rejection {
  policy: RateLimitPolicy;
  /** Whole seconds until a retry can succeed (for the optional Retry-After header). */
  retryAfterSec: number;
}

export class PortalRateLimiter {
  tenSecondly: number;
  daily: number;
  searchPerSecond: number;
  dailyUsed = 0;
  private dailyResetsAt: number;
  private readonly tenSecond = new TimeWindow(INTERVAL_MS);
  private readonly oneSecond = new TimeWindow(1000);
  private readonly search = new TimeWindow(1000);

  private timeZone: string;

  constructor(opts: { tenSecondly: number; daily: number; searchPerSecond: number; timeZone: string; now: number }) {
    this.timeZone = opts.timeZone;
    this.tenSecondly = opts.tenSecondly;
    this.daily = opts.daily;
    this.searchPerSecond = opts.searchPerSecond;
    this.dailyResetsAt = nextMidnight(opts.timeZone, opts.now);
  }

  /** Why this request must be refused, or null when it fits every limit. Does not consume. */
  check(now: number, isSearch: boolean): Rejection | null {
    this.rollDay(now);
    if (this.dailyUsed >= this.daily) {
      return { policy: 'DAILY', retryAfterSec: Math.max(1, Math.ceil((this.dailyResetsAt - now) / 1000)) };
    }
    if (this.tenSecond.count(now) >= this.tenSecondly) {
      return { policy: 'TEN_SECONDLY_ROLLING', retryAfterSec: secondsUntilFree(this.tenSecond, now) };
    }
    if (isSearch && this.search.count(now) >= this.searchPerSecond) {
      return { policy: 'SECONDLY', retryAfterSec: 1 };
    }
    return null;
  }

  /** Counts an accepted request; returns how many were accepted in the current 10-second window. */
  consume(now: number, isSearch: boolean): number {
    this.dailyUsed++;
    this.tenSecond.push(now);
    this.oneSecond.push(now);
    if (isSearch) this.search.push(now);
    return this.tenSecond.count(now);
  }

  /** The `X-HubSpot-RateLimit-*` headers as they stand after this request. */
  headers(now: number): Record<string, string> {
    const inWindow = this.tenSecond.count(now);
    const secondly = Math.floor(this.tenSecondly / 10);
    const inSecond = this.oneSecond.count(now);
    return {
      'X-HubSpot-RateLimit-Daily': String(this.daily),
      'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, this.daily - this.dailyUsed)),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(INTERVAL_MS),
      'X-HubSpot-RateLimit-Max': String(this.tenSecondly),
      'X-HubSpot-RateLimit-Remaining': String(Math.max(0, this.tenSecondly - inWindow)),
      'X-HubSpot-RateLimit-Secondly': String(secondly),
      'X-HubSpot-RateLimit-Secondly-Remaining': String(Math.max(0, secondly - inSecond)),
    };
  }

  /** Overrides the next reset (test knob); null goes back to the next midnight. */
  setDailyResetsAt(at: number | null, now: number): void {
    this.dailyResetsAt = at ?? nextMidnight(this.timeZone, now);
  }

  info(now: number): LimitsInfo {
    this.rollDay(now);
    return {
      tenSecondly: this.tenSecondly,
      daily: this.daily,
      dailyUsed: this.dailyUsed,
      dailyRemaining: Math.max(0, this.daily - this.dailyUsed),
      dailyResetsAt: new Date(this.dailyResetsAt).toISOString(),
      searchPerSecond: this.searchPerSecond,
    };
  }

  resetsAt(now: number): number {
    this.rollDay(now);
    return this.dailyResetsAt;
  }

  private rollDay(now: number): void {
    if (now >= this.dailyResetsAt) {
      this.dailyUsed = 0;
      this.dailyResetsAt = nextMidnight(this.timeZone, now);
    }
  }
}

function secondsUntilFree(window: TimeWindow, now: number): number {
  const oldest = window.oldest();
  if (oldest === undefined) return 1;
  return Math.max(1, Math.ceil((oldest + window.windowMs - now) / 1000));
}
