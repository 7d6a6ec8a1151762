/**
 * The rate governor's decision logic, pure and synchronous: given an account's recent calls and what
 * HubSpot's headers last said, may a call go now, and if not, how long to wait. Storage and locking are
 * elsewhere (governor.ts), so this file is easy to test and shared by every back end.
 *
 * Model (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines): a rolling window of `max` calls per `intervalMs` (10 s) per account, learned
 * from X-HubSpot-RateLimit-Max / -Interval-Milliseconds; a daily budget learned from -Daily-Remaining;
 * search has its own per-second limit.
 *
 * When a call arrives at HubSpot is unknown, only bounded: after it was reserved, before its answer came
 * back. So a call is logged as *pending* when reserved (every process sharing the store sees it and it
 * holds a slot however long it takes), and *settled* at the time its answer arrived — the latest moment
 * HubSpot can have counted it. A slot frees only when a settled call is a full window old, so a call
 * delayed between reservation and sending (a busy event loop, a slow network) can never make two calls
 * land in one window. The margin only covers clock differences between hosts.
 */
import type { RateLimitInfo } from '../hubspot/rate-limit';

export type CallClass = 'standard' | 'search';

export interface AccountRateState {
  /** Settled call times (ms, ascending) still inside the window, including phantom calls (see observe). */
  calls: number[];
  /** Reserved calls not yet answered: reservation id → reservation time. */
  pending: Record<string, number>;
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
  /** Extra spacing for clock differences between hosts sharing the budget. */
  marginMs: number;
  /** Fraction of HubSpot's Max to use (1 = all of it). */
  utilization: number;
  /** Search API limit per second (https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm: 5/s today); its own window. */
  searchPerSecond: number;
  /** Daily calls kept in reserve (for checks and re-runs) before waiting for the reset. */
  dailyReserve: number;
  /** A pending call older than this belongs to a process that died; it is forgotten. */
  pendingTtlMs: number;
  /** How often to look again when every call in the window is still pending. */
  pendingPollMs: number;
}

export const DEFAULT_POLICY: GovernorPolicy = {
  defaultMax: 100,
  defaultIntervalMs: 10_000,
  marginMs: 50,
  utilization: 1,
  searchPerSecond: 4,
  dailyReserve: 0,
  pendingTtlMs: 120_000,
  pendingPollMs: 25,
};

export function emptyState(policy: GovernorPolicy): AccountRateState {
  return {
    calls: [],
    pending: {},
    searchCalls: [],
    max: policy.defaultMax,
    intervalMs: policy.defaultIntervalMs,
    callsSinceDailyObservation: 0,
  };
}

export type ReserveDecision =
  | { ok: true; reservation: string }
  | { ok: false; waitMs: number; reason: 'ten_second_window' | 'search_window' | 'backoff' }
  /** `dailyExhaustedUntil` is unknown when HubSpot's headers say the budget is gone but not when it resets. */
  | { ok: false; dailyExhaustedUntil?: number; reason: 'daily' };

function prune(times: number[], cutoff: number): number[] {
  let i = 0;
  while (i < times.length && times[i] <= cutoff) i++;
  return i === 0 ? times : times.slice(i);
}

function insertSorted(times: number[], t: number): number[] {
  let i = times.length;
  while (i > 0 && times[i - 1] > t) i--;
  return [...times.slice(0, i), t, ...times.slice(i)];
}

function livePending(pending: Record<string, number> | undefined, now: number, policy: GovernorPolicy): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, at] of Object.entries(pending ?? {})) if (now - at < policy.pendingTtlMs) out[id] = at;
  return out;
}

/** Decides whether one call of `cls` may go at `now`; when it may, it is logged as pending under `reservation`. */
export function reserve(
  state: AccountRateState,
  now: number,
  cls: CallClass,
  policy: GovernorPolicy,
  reservation: string,
): { state: AccountRateState; decision: ReserveDecision } {
  const s: AccountRateState = { ...state };
  if (s.dailyExhaustedUntil !== undefined) {
    if (now < s.dailyExhaustedUntil)
      return { state: s, decision: { ok: false, dailyExhaustedUntil: s.dailyExhaustedUntil, reason: 'daily' } };
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
  s.pending = livePending(s.pending, now, policy);
  const pendingCount = Object.keys(s.pending).length;
  const limit = Math.max(1, Math.floor(s.max * policy.utilization));
  if (s.calls.length + pendingCount >= limit) {
    // Settled calls leave the window oldest first; pending ones hold their slot until answered.
    const mustLeave = s.calls.length + pendingCount - limit + 1;
    const waitMs = mustLeave <= s.calls.length ? Math.max(1, s.calls[mustLeave - 1] + windowMs - now) : policy.pendingPollMs;
    return { state: s, decision: { ok: false, waitMs, reason: 'ten_second_window' } };
  }
  if (cls === 'search') {
    const searchWindow = 1000 + policy.marginMs;
    s.searchCalls = prune(s.searchCalls, now - searchWindow);
    if (s.searchCalls.length >= policy.searchPerSecond) {
      const freesAt = s.searchCalls[s.searchCalls.length - policy.searchPerSecond] + searchWindow;
      return { state: s, decision: { ok: false, waitMs: Math.max(1, freesAt - now), reason: 'search_window' } };
    }
    s.searchCalls = [...s.searchCalls, now];
  }
  s.pending = { ...s.pending, [reservation]: now };
  s.callsSinceDailyObservation += 1;
  return { state: s, decision: { ok: true, reservation } };
}

/** Reports whether the daily budget (as last observed, minus calls since) is used up. */
export function dailyBudgetLeft(state: AccountRateState, policy: GovernorPolicy): number | undefined {
  if (state.dailyRemaining === undefined) return undefined;
  return state.dailyRemaining - state.callsSinceDailyObservation - policy.dailyReserve;
}

export interface Observation {
  /** HTTP status; 0 when no answer came (timeout, reset). */
  status: number;
  info: RateLimitInfo;
  /** The reservation this answer settles. */
  reservation?: string;
  /** For 429s: which limit HubSpot says was hit. */
  policy?: string;
  retryAfterMs?: number;
}

/**
 * Settles the call's reservation at `now` and folds the answer's rate-limit headers into the state.
 * HubSpot's `Remaining` is the account's true budget: if it says more calls were made in the window than
 * we logged (another app or an unshared process uses the account), phantom calls are logged so we slow
 * down to match.
 */
export function observe(state: AccountRateState, now: number, obs: Observation, policy: GovernorPolicy): AccountRateState {
  const s: AccountRateState = { ...state };
  const { info } = obs;
  if (info.max !== undefined && info.max > 0) s.max = info.max;
  if (info.intervalMs !== undefined && info.intervalMs > 0) s.intervalMs = info.intervalMs;
  const windowMs = s.intervalMs + policy.marginMs;
  s.calls = prune(s.calls, now - windowMs);
  s.pending = livePending(s.pending, now, policy);
  if (obs.reservation !== undefined && obs.reservation in s.pending) {
    const { [obs.reservation]: _settled, ...rest } = s.pending;
    s.pending = rest;
    // A 429 was not counted by HubSpot (reference: rejected calls use no budget), so it frees its slot.
    if (obs.status !== 429) s.calls = insertSorted(s.calls, now);
  }
  if (info.dailyRemaining !== undefined) {
    s.dailyRemaining = info.dailyRemaining;
    s.callsSinceDailyObservation = Object.keys(s.pending).length;
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
  if (obs.status !== 0) s.consecutive429 = 0;
  if (info.max !== undefined && info.remaining !== undefined) {
    const usedAtHubSpot = info.max - info.remaining;
    // Our pending calls may or may not have been counted yet; assume they were (fewer phantoms).
    const missing = usedAtHubSpot - s.calls.length - Object.keys(s.pending).length;
    if (missing > 0) s.calls = [...s.calls, ...new Array<number>(missing).fill(now)];
  }
  return s;
}

export function markDailyExhausted(state: AccountRateState, until: number): AccountRateState {
  return { ...state, dailyExhaustedUntil: until };
}
