/**
 * The rate governor's decision logic, pure and synchronous: given an account's recent calls and what
 * HubSpot's headers last said, may a call go now, and if not, how long to wait. Storage and locking are
 * elsewhere (governor.ts), so this file is easy to test and shared by every back end.
 *
 * Model (reference §5): a rolling window of `max` calls per `intervalMs` (10 s) per account, learned
 * from X-HubSpot-RateLimit-Max / -Interval-Milliseconds; a daily budget learned from -Daily-Remaining;
 * search has its own per-second limit. Calls are logged when reserved (before they are sent), so every
 * process sharing the store sees calls in flight.
 */
import type { RateLimitInfo } from '../hubspot/rate-limit';

export type CallClass = 'standard' | 'search';

export interface AccountRateState {
  /** Reservation times (ms, ascending) still inside the window, including phantom calls (see observe). */
  calls: number[];
  searchCalls: number[];
  max: number;
  intervalMs: number;
  /** Last Daily-Remaining HubSpot reported, and how many calls we reserved since. */
  dailyRemaining?: number;
  callsSinceDailyObservation: number;
  /** The daily budget is gone until this time (ms). */
  dailyExhaustedUntil?: number;
  /** No call before this time (after an unexpected 429 or a Retry-After). */
  blockedUntil?: number;
  /** Unexpected 429s in a row (backoff grows with them; a success resets it). */
  consecutive429?: number;
}

export interface GovernorPolicy {
  /** Calls per window before HubSpot's headers have been seen (Free/Starter's 100 / 10 s is the safe floor). */
  defaultMax: number;
  defaultIntervalMs: number;
  /** Extra spacing so a call's arrival at HubSpot never lands inside the window of the call it replaces. */
  marginMs: number;
  /** Fraction of HubSpot's Max to use (1 = all of it). */
  utilization: number;
  /** Search API limit per second (reference §3.6: 5/s today); its own window. */
  searchPerSecond: number;
  /** Daily calls kept in reserve (for checks and re-runs) before waiting for the reset. */
  dailyReserve: number;
}

export const DEFAULT_POLICY: GovernorPolicy = {
  defaultMax: 100,
  defaultIntervalMs: 10_000,
  marginMs: 250,
  utilization: 1,
  searchPerSecond: 4,
  dailyReserve: 0,
};

export function emptyState(policy: GovernorPolicy): AccountRateState {
  return { calls: [], searchCalls: [], max: policy.defaultMax, intervalMs: policy.defaultIntervalMs, callsSinceDailyObservation: 0 };
}

export type ReserveDecision =
  | { ok: true }
  | { ok: false; waitMs: number; reason: 'ten_second_window' | 'search_window' | 'backoff' }
  /** `dailyExhaustedUntil` is unknown when HubSpot's headers say the budget is gone but not when it resets. */
  | { ok: false; dailyExhaustedUntil?: number; reason: 'daily' };

function prune(times: number[], cutoff: number): number[] {
  let i = 0;
  while (i < times.length && times[i]! <= cutoff) i++;
  return i === 0 ? times : times.slice(i);
}

/** Decides whether one call of `cls` may go at `now`; when it may, the call is logged in the returned state. */
export function reserve(state: AccountRateState, now: number, cls: CallClass, policy: GovernorPolicy): { state: AccountRateState; decision: ReserveDecision } {
  const s: AccountRateState = { ...state };
  if (s.dailyExhaustedUntil !== undefined) {
    if (now < s.dailyExhaustedUntil) return { state: s, decision: { ok: false, dailyExhaustedUntil: s.dailyExhaustedUntil, reason: 'daily' } };
    s.dailyExhaustedUntil = undefined;
    s.dailyRemaining = undefined;
    s.callsSinceDailyObservation = 0;
  }
  const left = dailyBudgetLeft(s, policy);
  if (left !== undefined && left <= 0) return { state: s, decision: { ok: false, reason: 'daily' } };
  if (s.blockedUntil !== undefined && now < s.blockedUntil) {
    return { state: s, decision: { ok: false, waitMs: s.blockedUntil - now, reason: 'backoff' } };
  }
  const windowMs = s.intervalMs + policy.marginMs;
  s.calls = prune(s.calls, now - windowMs);
  const limit = Math.max(1, Math.floor(s.max * policy.utilization));
  if (s.calls.length >= limit) {
    // The slot frees when the call `limit` places back leaves the window.
    const freesAt = s.calls[s.calls.length - limit]! + windowMs;
    return { state: s, decision: { ok: false, waitMs: Math.max(1, freesAt - now), reason: 'ten_second_window' } };
  }
  if (cls === 'search') {
    const searchWindow = 1000 + policy.marginMs;
    s.searchCalls = prune(s.searchCalls, now - searchWindow);
    if (s.searchCalls.length >= policy.searchPerSecond) {
      const freesAt = s.searchCalls[s.searchCalls.length - policy.searchPerSecond]! + searchWindow;
      return { state: s, decision: { ok: false, waitMs: Math.max(1, freesAt - now), reason: 'search_window' } };
    }
    s.searchCalls = [...s.searchCalls, now];
  }
  s.calls = [...s.calls, now];
  s.callsSinceDailyObservation += 1;
  return { state: s, decision: { ok: true } };
}

/** Reports whether the daily budget (as last observed, minus calls since) is used up. */
export function dailyBudgetLeft(state: AccountRateState, policy: GovernorPolicy): number | undefined {
  if (state.dailyRemaining === undefined) return undefined;
  return state.dailyRemaining - state.callsSinceDailyObservation - policy.dailyReserve;
}

export interface Observation {
  status: number;
  info: RateLimitInfo;
  /** For 429s: which limit HubSpot says was hit. */
  policy?: string;
  retryAfterMs?: number;
}

/**
 * Folds one response's rate-limit headers into the state. HubSpot's `Remaining` is the account's true
 * budget: if it says more calls were made in the window than we logged (another app or an unshared
 * process uses the account), phantom calls are logged so we slow down to match.
 */
export function observe(state: AccountRateState, now: number, obs: Observation, policy: GovernorPolicy): AccountRateState {
  const s: AccountRateState = { ...state };
  const { info } = obs;
  if (info.max !== undefined && info.max > 0) s.max = info.max;
  if (info.intervalMs !== undefined && info.intervalMs > 0) s.intervalMs = info.intervalMs;
  const windowMs = s.intervalMs + policy.marginMs;
  s.calls = prune(s.calls, now - windowMs);
  if (info.dailyRemaining !== undefined) {
    s.dailyRemaining = info.dailyRemaining;
    s.callsSinceDailyObservation = 0;
  }
  if (obs.status === 429) {
    if (obs.policy === 'DAILY') return s;
    // Unexpected: HubSpot's window is fuller than our log says, but not for how long. Back off briefly
    // (Retry-After when given), longer for 429s in a row; headers of the next answers recalibrate.
    const n = (s.consecutive429 ?? 0) + 1;
    s.consecutive429 = n;
    const wait = obs.retryAfterMs ?? Math.min(s.intervalMs, 500 * 2 ** (n - 1));
    s.blockedUntil = Math.max(s.blockedUntil ?? 0, now + wait);
    return s;
  }
  s.consecutive429 = 0;
  if (info.max !== undefined && info.remaining !== undefined) {
    const usedAtHubSpot = info.max - info.remaining;
    const missing = usedAtHubSpot - s.calls.length;
    if (missing > 0) s.calls = [...s.calls, ...new Array<number>(missing).fill(now)];
  }
  return s;
}

export function markDailyExhausted(state: AccountRateState, until: number): AccountRateState {
  return { ...state, dailyExhaustedUntil: until };
}
