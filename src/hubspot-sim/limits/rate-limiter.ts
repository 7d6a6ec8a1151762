/**
 * One portal's rate limits: HubSpot's rolling 10-second window, kept per app ("burst" limits apply per
 * app, the daily limit to the whole account: https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines),
 * the daily budget (reset at midnight in the portal's zone) and search's separate per-second limit. A
 * request answered 429 consumes nothing. `burstKey` names the window: an app id, or one shared key for
 * accounts switched to an account-wide burst limit.
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
  private readonly tenSecond = new Map<number, TimeWindow>();
  private readonly oneSecond = new Map<number, TimeWindow>();
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
  check(now: number, isSearch: boolean, burstKey = 0, tenSecondlyExempt = false): Rejection | null {
    this.rollDay(now);
    if (this.dailyUsed >= this.daily) {
      return { policy: 'DAILY', retryAfterSec: Math.max(1, Math.ceil((this.dailyResetsAt - now) / 1000)) };
    }
    const window = this.window(this.tenSecond, burstKey, INTERVAL_MS);
    if (!tenSecondlyExempt && window.count(now) >= this.tenSecondly) {
      return { policy: 'TEN_SECONDLY_ROLLING', retryAfterSec: secondsUntilFree(window, now) };
    }
    if (isSearch && this.search.count(now) >= this.searchPerSecond) {
      return { policy: 'SECONDLY', retryAfterSec: 1 };
    }
    return null;
  }

  /** Counts an accepted request; returns how many were accepted in its 10-second window. */
  consume(now: number, isSearch: boolean, burstKey = 0, tenSecondlyExempt = false): number {
    this.dailyUsed++;
    if (isSearch) this.search.push(now);
    const window = this.window(this.tenSecond, burstKey, INTERVAL_MS);
    if (tenSecondlyExempt) return window.count(now);
    window.push(now);
    this.window(this.oneSecond, burstKey, 1000).push(now);
    return window.count(now);
  }

  /** The `X-HubSpot-RateLimit-*` headers (of this burst window) as they stand after this request. */
  headers(now: number, burstKey = 0): Record<string, string> {
    const inWindow = this.window(this.tenSecond, burstKey, INTERVAL_MS).count(now);
    const secondly = Math.floor(this.tenSecondly / 10);
    const inSecond = this.window(this.oneSecond, burstKey, 1000).count(now);
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

  private window(windows: Map<number, TimeWindow>, key: number, ms: number): TimeWindow {
    let w = windows.get(key);
    if (!w) windows.set(key, (w = new TimeWindow(ms)));
    return w;
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
