/**
 * Rate limits (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines): tier figures, headers on every authenticated answer, the rolling 10-second
 * window, the daily budget with its midnight reset in the portal's zone, search's per-second limit,
 * Retry-After, and the per-portal peak-window stats. A controllable clock keeps this suite fast.
 */
import { expectCorrelationId, expectRateLimitHeaders, RATE_LIMIT_HEADERS, sleep, startSim, UUID_RE, type SimHarness } from './helpers';

const LIST = '/crm/v3/objects/contacts';
const SEARCH = '/crm/v3/objects/contacts/search';
let now = Date.UTC(2025, 5, 10, 12, 0, 0);
let h: SimHarness;
beforeAll(async () => {
  h = await startSim({ clock: () => now });
});
afterAll(() => h.sim.close());
const advance = (ms: number) => {
  now += ms;
};

describe('tiers', () => {
  test.each([
    ['free', false, 100, 250_000],
    ['starter', false, 100, 250_000],
    ['pro', false, 190, 625_000],
    ['enterprise', false, 190, 1_000_000],
    ['free', true, 250, 1_250_000],
    ['pro', 2, 250, 2_625_000],
    ['enterprise', 3, 250, 3_000_000],
  ] as const)('%s (apiAddOn %s) → %d per 10 s, %d per day', async (tier, apiAddOn, max, daily) => {
    const { api } = h.account({ tier, apiAddOn });
    const res = await api.get(LIST);
    expect(res.headers['x-hubspot-ratelimit-max']).toBe(String(max));
    expect(res.headers['x-hubspot-ratelimit-daily']).toBe(String(daily));
    expect(res.headers['x-hubspot-ratelimit-secondly']).toBe(String(Math.floor(max / 10)));
  });

  test('pro daily is configurable (650,000 per the 2024 changelog)', async () => {
    const other = await startSim({ tierLimits: { pro: { daily: 650_000 } } });
    try {
      const { api } = other.account({ tier: 'pro' });
      expect((await api.get(LIST)).headers['x-hubspot-ratelimit-daily']).toBe('650000');
    } finally {
      await other.sim.close();
    }
  });
});

describe('headers', () => {
  test('free account: the recorded header set, remaining counting down', async () => {
    const { api } = h.account();
    const first = await api.get(LIST);
    expect(first.headers).toMatchObject({
      'x-hubspot-ratelimit-daily': '250000',
      'x-hubspot-ratelimit-daily-remaining': '249999',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
      'x-hubspot-ratelimit-max': '100',
      'x-hubspot-ratelimit-remaining': '99',
      'x-hubspot-ratelimit-secondly': '10',
      'x-hubspot-ratelimit-secondly-remaining': '9',
    });
    const second = await api.get(LIST);
    expect(second.headers['x-hubspot-ratelimit-remaining']).toBe('98');
    expect(second.headers['x-hubspot-ratelimit-daily-remaining']).toBe('249998');
    expect(second.headers['x-hubspot-correlation-id']).not.toBe(first.headers['x-hubspot-correlation-id']);
  });

  test('present on 4xx answers too (404, 400, 403)', async () => {
    const { api } = h.account({ scopes: ['crm.objects.contacts.read'] });
    for (const res of [
      await api.get(`${LIST}/123456789`),
      await api.get(`${LIST}?limit=500`),
      await api.post(`${LIST}/batch/upsert`, { inputs: [] }),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expectRateLimitHeaders(res);
      expectCorrelationId(res);
    }
  });
});

describe('ten-second rolling window', () => {
  test('the request over the limit gets the TEN_SECONDLY_ROLLING 429 body; 429s consume nothing', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setLimits(portalId, { tenSecondly: 5 });
    for (let i = 0; i < 5; i++) expect((await api.get(LIST)).status).toBe(200);
    const res = await api.get(LIST);
    expect(res.status).toBe(429);
    expect(res.data).toEqual({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: expect.stringMatching(UUID_RE),
      policyName: 'TEN_SECONDLY_ROLLING',
      groupName: `publicapi:private-app-api-calls-ten-secondly:${portalId}`,
      requestId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(res.data.category).toBeUndefined();
    expect(res.headers['x-hubspot-ratelimit-remaining']).toBe('0');
    expect(res.headers['x-hubspot-ratelimit-max']).toBe('5');
    expect(res.headers['retry-after']).toBeUndefined();
    expectCorrelationId(res);

    // More refused calls later in the window do not push the window's end out.
    advance(5_000);
    for (let i = 0; i < 3; i++) expect((await api.get(LIST)).status).toBe(429);
    expect(h.sim.admin.getLimits(portalId).dailyUsed).toBe(5);
    advance(5_001);
    for (let i = 0; i < 5; i++) expect((await api.get(LIST)).status).toBe(200);
    expect((await api.get(LIST)).status).toBe(429);
  });

  test('the window rolls: slots free up one by one as old requests age out', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setLimits(portalId, { tenSecondly: 3 });
    await api.get(LIST);
    advance(4_000);
    await api.get(LIST);
    await api.get(LIST);
    expect((await api.get(LIST)).status).toBe(429);
    advance(6_001); // the first request has left the window, the other two have not
    expect((await api.get(LIST)).status).toBe(200);
    expect((await api.get(LIST)).status).toBe(429);
  });

  test('limits are per portal', async () => {
    const a = h.account();
    const b = h.account();
    h.sim.admin.setLimits(a.portalId, { tenSecondly: 1 });
    expect((await a.api.get(LIST)).status).toBe(200);
    expect((await a.api.get(LIST)).status).toBe(429);
    expect((await b.api.get(LIST)).status).toBe(200);
  });

  test('very high limits effectively disable limiting', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setLimits(portalId, { tenSecondly: 1e12, daily: 1e15 });
    const results = await Promise.all(Array.from({ length: 150 }, () => api.get(LIST)));
    expect(results.every((r) => r.status === 200)).toBe(true);
  });
});

describe('daily limit', () => {
  test('DAILY 429 once the budget is spent; reset at the overridden dailyResetsAt', async () => {
    const { portalId, api } = h.account();
    const resetAt = new Date(now + 3_000).toISOString();
    const limits = h.sim.admin.setLimits(portalId, { daily: 3, dailyResetsAt: resetAt });
    expect(limits).toMatchObject({ daily: 3, dailyUsed: 0, dailyRemaining: 3, dailyResetsAt: resetAt });
    for (let i = 0; i < 3; i++) expect((await api.get(LIST)).status).toBe(200);
    const res = await api.get(LIST);
    expect(res.status).toBe(429);
    expect(res.data).toEqual({
      status: 'error',
      message: 'You have reached your daily limit.',
      errorType: 'RATE_LIMIT',
      correlationId: expect.stringMatching(UUID_RE),
      policyName: 'DAILY',
      groupName: `publicapi:private-app-api-calls-daily:${portalId}`,
      requestId: expect.any(String),
    });
    expect(res.headers['x-hubspot-ratelimit-daily-remaining']).toBe('0');
    advance(3_000);
    const after = await api.get(LIST);
    expect(after.status).toBe(200);
    expect(after.headers['x-hubspot-ratelimit-daily-remaining']).toBe('2');
    // Next reset is the following midnight in the portal's zone again.
    expect(Date.parse(h.sim.admin.getLimits(portalId).dailyResetsAt)).toBeGreaterThan(now);
  });

  test('resets at midnight in the portal time zone', async () => {
    // 23:59:58 in Tokyo (UTC+9, no DST) is 14:59:58 UTC.
    now = Date.UTC(2025, 6, 1, 14, 59, 58);
    const { portalId, api } = h.account({ timeZone: 'Asia/Tokyo' });
    expect(h.sim.admin.getLimits(portalId).dailyResetsAt).toBe('2025-07-01T15:00:00.000Z');
    h.sim.admin.setLimits(portalId, { daily: 1 });
    expect((await api.get(LIST)).status).toBe(200);
    expect((await api.get(LIST)).data.policyName).toBe('DAILY');
    advance(2_000);
    expect((await api.get(LIST)).status).toBe(200);
    expect(h.sim.admin.getLimits(portalId).dailyResetsAt).toBe('2025-07-02T15:00:00.000Z');
  });

  test('US/Eastern default: midnight EDT is 04:00 UTC', async () => {
    now = Date.UTC(2025, 6, 1, 20, 0, 0);
    const { portalId } = h.account();
    expect(h.sim.admin.getLimits(portalId).dailyResetsAt).toBe('2025-07-02T04:00:00.000Z');
  });

  test('api-usage reports the same counter', async () => {
    const { portalId, api } = h.account();
    await api.get(LIST);
    const usage = await api.get('/account-info/v3/api-usage/daily/private-apps');
    expect(usage.data.results[0]).toMatchObject({
      currentUsage: 1,
      usageLimit: 250_000,
      resetsAt: h.sim.admin.getLimits(portalId).dailyResetsAt,
    });
  });

  test('api-usage still answers (unmetered) when the daily budget is gone, with the overridden reset time', async () => {
    const { portalId, api } = h.account();
    const resetsAt = new Date(now + 60_000).toISOString();
    h.sim.admin.setLimits(portalId, { daily: 1, dailyResetsAt: resetsAt });
    expect((await api.get(LIST)).status).toBe(200);
    expect((await api.get(LIST)).data.policyName).toBe('DAILY');
    const usage = await api.get('/account-info/v3/api-usage/daily/private-apps');
    expect(usage.status).toBe(200);
    expect(usage.data.results[0]).toMatchObject({ currentUsage: 1, usageLimit: 1, resetsAt });
  });
});

describe('search per-second limit', () => {
  test('default 5/s; the 6th gets the legacy SECONDLY body; other routes are unaffected', async () => {
    const { portalId, api } = h.account();
    for (let i = 0; i < 5; i++) expect((await api.post(SEARCH, {})).status).toBe(200);
    const res = await api.post(SEARCH, {});
    expect(res.status).toBe(429);
    expect(res.data).toEqual({
      status: 'error',
      message: 'You have reached your secondly limit.',
      errorType: 'RATE_LIMIT',
      correlationId: expect.stringMatching(UUID_RE),
      policyName: 'SECONDLY',
      groupName: `publicapi:crm-search-secondly:${portalId}`,
      requestId: expect.any(String),
    });
    // Search answers carry no X-HubSpot-RateLimit-* headers, 429s included (usage guidelines).
    for (const name of RATE_LIMIT_HEADERS) expect(res.headers[name]).toBeUndefined();
    expect((await api.get(LIST)).status).toBe(200);
    advance(1_001);
    expect((await api.post(SEARCH, {})).status).toBe(200);
  });

  test('configurable per portal', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setLimits(portalId, { searchPerSecond: 1 });
    expect((await api.post(SEARCH, {})).status).toBe(200);
    expect((await api.post(SEARCH, {})).status).toBe(429);
  });
});

describe('Retry-After', () => {
  afterEach(() => h.sim.admin.setSettings({ retryAfter: false }));

  test('off by default; when on, seconds until a slot frees', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setLimits(portalId, { tenSecondly: 1 });
    await api.get(LIST);
    expect((await api.get(LIST)).headers['retry-after']).toBeUndefined();
    h.sim.admin.setSettings({ retryAfter: true });
    advance(2_500);
    expect((await api.get(LIST)).headers['retry-after']).toBe('8');
  });

  test('on DAILY 429s: seconds until the reset', async () => {
    h.sim.admin.setSettings({ retryAfter: true });
    const { portalId, api } = h.account();
    h.sim.admin.setLimits(portalId, { daily: 0, dailyResetsAt: new Date(now + 42_000).toISOString() });
    expect((await api.get(LIST)).headers['retry-after']).toBe('42');
  });

  test('the start option and the HTTP settings route switch it too', async () => {
    const other = await startSim({ retryAfter: true });
    try {
      const { portalId, api } = other.account();
      other.sim.admin.setLimits(portalId, { tenSecondly: 0 });
      expect((await api.get(LIST)).headers['retry-after']).toMatch(/^\d+$/);
      expect((await other.anon.put('/__sim/settings', { retryAfter: false })).data).toEqual({ retryAfter: false });
      expect((await api.get(LIST)).headers['retry-after']).toBeUndefined();
    } finally {
      await other.sim.close();
    }
  });
});

describe('peak-window stats', () => {
  test('maxRequestsIn10s counts every request including 429s; maxAcceptedIn10s only accepted ones', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setLimits(portalId, { tenSecondly: 5 });
    for (let i = 0; i < 12; i++) await api.get(LIST);
    advance(10_001);
    for (let i = 0; i < 3; i++) await api.get(LIST);
    const s = h.sim.admin.stats().portals[String(portalId)];
    expect(s).toEqual({ requests: 15, maxRequestsIn10s: 12, maxAcceptedIn10s: 5, rateLimited: 7 });
    expect(h.sim.admin.stats().rateLimited.TEN_SECONDLY_ROLLING).toBeGreaterThanOrEqual(7);
  });

  test('a well-behaved client spreading requests stays at the limit', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setLimits(portalId, { tenSecondly: 4 });
    for (let i = 0; i < 20; i++) {
      expect((await api.get(LIST)).status).toBe(200);
      advance(2_500);
    }
    expect(h.sim.admin.stats().portals[String(portalId)].maxRequestsIn10s).toBe(4);
  });
});

test('the real clock works too: a daily reset a second away', async () => {
  const real = await startSim();
  try {
    const { portalId, api } = real.account();
    real.sim.admin.setLimits(portalId, { daily: 1, dailyResetsAt: new Date(Date.now() + 1_000).toISOString() });
    expect((await api.get(LIST)).status).toBe(200);
    expect((await api.get(LIST)).status).toBe(429);
    await sleep(1_100);
    expect((await api.get(LIST)).status).toBe(200);
  } finally {
    await real.sim.close();
  }
});
