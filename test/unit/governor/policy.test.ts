/** The rate governor's decision logic (pure): rolling window, settle-at-answer, header calibration, daily budget, search. */
import { DEFAULT_POLICY, emptyState, markDailyExhausted, observe, reserve, type AccountRateState } from '../../../src/governor/policy';
import { nextMidnightIn } from '../../../src/util/time-zone';

const policy = { ...DEFAULT_POLICY, marginMs: 0 };
let n = 0;

function take(state: AccountRateState, now: number, cls: 'standard' | 'search' = 'standard') {
  return reserve(state, now, cls, policy, `r${n++}`);
}

/** Reserves and settles one call answered `latency` ms later. */
function call(state: AccountRateState, now: number, latency = 0): AccountRateState {
  const r = take(state, now);
  if (!r.decision.ok) throw new Error(`no slot at ${now}`);
  return observe(r.state, now + latency, { status: 200, info: {}, reservation: r.decision.reservation }, policy);
}

test('allows max calls per window, then says when the oldest answered call leaves it', () => {
  let s = { ...emptyState(policy), max: 3 };
  for (const t of [0, 100, 200]) s = call(s, t);
  expect(take(s, 300).decision).toEqual({ ok: false, waitMs: 9700, reason: 'ten_second_window' });
  expect(take(s, 10_001).decision.ok).toBe(true);
});

test('a slot frees a full window after the answer, not after the reservation: a delayed send cannot break the window', () => {
  let s = { ...emptyState(policy), max: 1 };
  // Reserved at 0, but the event loop was busy: the answer only came at 800.
  s = call(s, 0, 800);
  expect(take(s, 10_000).decision).toMatchObject({ ok: false, waitMs: 800 });
  expect(take(s, 10_800).decision.ok).toBe(true);
});

test('calls in flight hold their slot until answered (or until their process is presumed dead)', () => {
  let s = { ...emptyState(policy), max: 2 };
  s = take(s, 0).state;
  s = take(s, 0).state;
  expect(take(s, 60_000).decision).toEqual({ ok: false, waitMs: policy.pendingPollMs, reason: 'ten_second_window' });
  expect(take(s, policy.pendingTtlMs + 1).decision.ok).toBe(true);
});

test('a 429 answer frees its slot (HubSpot did not count it) and backs off', () => {
  let s = { ...emptyState(policy), max: 5 };
  const r = take(s, 0);
  s = observe(
    r.state,
    10,
    { status: 429, policy: 'TEN_SECONDLY_ROLLING', info: {}, reservation: (r.decision as { reservation: string }).reservation },
    policy,
  );
  expect(s.calls).toHaveLength(0);
  expect(Object.keys(s.pending)).toHaveLength(0);
  expect(take(s, 20).decision).toMatchObject({ ok: false, reason: 'backoff', waitMs: 490 });
});

test('learns the window from HubSpot headers and logs calls it did not make (other apps on the account)', () => {
  let s = emptyState(policy);
  s = observe(s, 0, { status: 200, info: { max: 10, remaining: 4, intervalMs: 10_000 } }, policy);
  expect(s.max).toBe(10);
  expect(s.calls).toHaveLength(6); // HubSpot saw 6 calls in the window; we logged none
  for (let i = 0; i < 4; i++) s = take(s, 1).state;
  expect(take(s, 2).decision.ok).toBe(false);
});

test('headers never shrink our own log (calls in flight are not yet counted by HubSpot)', () => {
  let s = emptyState(policy);
  for (let i = 0; i < 5; i++) s = take(s, i).state;
  s = observe(s, 10, { status: 200, info: { max: 100, remaining: 99 } }, policy);
  expect(s.calls.length + Object.keys(s.pending).length).toBe(5);
});

test('an unexpected ten-secondly 429 backs off briefly (Retry-After when given), longer when repeated', () => {
  let s = call(emptyState(policy), 0);
  s = observe(s, 50, { status: 429, policy: 'TEN_SECONDLY_ROLLING', info: { max: 100, remaining: 0 }, retryAfterMs: 2000 }, policy);
  expect(take(s, 100).decision).toMatchObject({ ok: false, reason: 'backoff', waitMs: 1950 });
  expect(take(s, 2050).decision.ok).toBe(true);
  let t = emptyState(policy);
  t = observe(t, 0, { status: 429, policy: 'TEN_SECONDLY_ROLLING', info: {} }, policy);
  expect(t.blockedUntil).toBe(500);
  t = observe(t, 600, { status: 429, policy: 'TEN_SECONDLY_ROLLING', info: {} }, policy);
  expect(t.blockedUntil).toBe(1600);
  t = observe(t, 1700, { status: 200, info: { max: 100, remaining: 50 } }, policy);
  expect(t.consecutive429).toBe(0);
});

test('daily budget: gone when Daily-Remaining minus calls since reaches zero; unknown reset until told', () => {
  let s = observe(emptyState(policy), 0, { status: 200, info: { daily: 100, dailyRemaining: 2 } }, policy);
  s = take(s, 1).state;
  s = take(s, 2).state;
  expect(take(s, 3).decision).toEqual({ ok: false, reason: 'daily' });
  s = markDailyExhausted(s, 50_000);
  expect(take(s, 4).decision).toEqual({ ok: false, reason: 'daily', dailyExhaustedUntil: 50_000 });
  expect(take(s, 50_001).decision.ok).toBe(true); // after the reset the old observation is forgotten
});

test('search has its own per-second limit, and counts toward the ten-second window', () => {
  let s = emptyState(policy);
  for (let i = 0; i < policy.searchPerSecond; i++) s = take(s, i, 'search').state;
  expect(take(s, 10, 'search').decision).toMatchObject({ ok: false, reason: 'search_window' });
  expect(take(s, 10, 'standard').decision.ok).toBe(true);
  expect(take(s, 1001, 'search').decision.ok).toBe(true);
});

test('next midnight in the portal time zone', () => {
  const now = Date.parse('2026-11-28T11:00:00Z');
  expect(new Date(nextMidnightIn('US/Eastern', now)).toISOString()).toBe('2026-11-29T05:00:00.000Z');
  expect(new Date(nextMidnightIn('Asia/Kolkata', now)).toISOString()).toBe('2026-11-28T18:30:00.000Z');
  expect(new Date(nextMidnightIn('Not/AZone', now)).toISOString()).toBe('2026-11-29T00:00:00.000Z');
  // Across the US spring-forward change.
  expect(new Date(nextMidnightIn('US/Eastern', Date.parse('2026-03-08T12:00:00Z'))).toISOString()).toBe('2026-03-09T04:00:00.000Z');
});
