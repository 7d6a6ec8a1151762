/** Fault injection (https://developers.hubspot.com/docs/api-reference/error-handling, docs/hubspot-simulator.md): 5xx bodies, hangs, resets, latency, unexpected 429s, scoping. */
import axios from 'axios';
import { expectRateLimitHeaders, startSim, upsertInput, UUID_RE, type SimHarness } from './helpers';

const LIST = '/crm/v3/objects/contacts';
let h: SimHarness;
let api: SimHarness['anon'];
let portalId: number;
beforeAll(async () => {
  h = await startSim();
  ({ api, portalId } = h.account());
  h.sim.admin.setLimits(portalId, { tenSecondly: 1e9 });
});
afterEach(() => h.sim.admin.setFaults({}));
afterAll(() => h.sim.close());

describe('injected errors', () => {
  test('500: JSON "Internal Error" with HubSpot headers', async () => {
    h.sim.admin.setFaults({ errorRate: 1, errorStatuses: [500] });
    const res = await api.get(LIST);
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/json;charset=utf-8');
    expect(res.data).toEqual({
      status: 'error',
      message: 'Internal Error',
      correlationId: expect.stringMatching(UUID_RE),
      category: 'INTERNAL_ERROR',
    });
    expect(res.headers['x-hubspot-correlation-id']).toBe(res.data.correlationId);
    expectRateLimitHeaders(res);
  });

  test('503: JSON Service Unavailable', async () => {
    h.sim.admin.setFaults({ errorRate: 1, errorStatuses: [503] });
    const res = await api.get(LIST);
    expect(res.status).toBe(503);
    expect(res.data).toMatchObject({ status: 'error', message: 'Service Unavailable', category: 'SERVICE_UNAVAILABLE' });
  });

  test.each([
    [502, 'text/html', '<title>502 Bad Gateway</title>', 'nginx'],
    [504, 'text/html', '<title>504 Gateway Time-out</title>', 'nginx'],
    [524, 'text/html', 'A timeout occurred', 'cloudflare'],
    [521, 'text/html', 'Web server is down', 'cloudflare'],
  ])('%d: HTML from the edge, not JSON', async (status, type, text, origin) => {
    h.sim.admin.setFaults({ errorRate: 1, errorStatuses: [status] });
    const res = await api.get(LIST, { responseType: 'text' });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe(type);
    expect(res.data).toContain(text);
    expect(res.data).toContain(origin);
    expect(() => JSON.parse(res.data)).toThrow();
    expect(res.headers['x-hubspot-correlation-id']).toMatch(UUID_RE);
    expect(res.headers['x-hubspot-ratelimit-max']).toBeUndefined();
  });

  test('423 Locked and 477 with Retry-After', async () => {
    h.sim.admin.setFaults({ errorRate: 1, errorStatuses: [423] });
    const locked = await api.get(LIST);
    expect(locked.status).toBe(423);
    expect(locked.data.category).toBe('LOCKED');
    h.sim.admin.setFaults({ errorRate: 1, errorStatuses: [477] });
    const migrating = await api.get(LIST);
    expect(migrating.status).toBe(477);
    expect(migrating.headers['retry-after']).toMatch(/^\d+$/);
  });

  test('by default errors are drawn from 500/502/503/504', async () => {
    h.sim.admin.setFaults({ errorRate: 1 });
    const statuses = new Set<number>();
    for (let i = 0; i < 60; i++) statuses.add((await api.get(LIST)).status);
    expect([...statuses].sort()).toEqual([500, 502, 503, 504]);
  });

  test('errorRate is a fraction', async () => {
    h.sim.admin.setFaults({ errorRate: 0.5, errorStatuses: [500] });
    let errors = 0;
    for (let i = 0; i < 200; i++) if ((await api.get(LIST)).status === 500) errors++;
    expect(errors).toBeGreaterThan(60);
    expect(errors).toBeLessThan(140);
  });

  test('errorBurst fails exactly the next N requests', async () => {
    h.sim.admin.setFaults({ errorBurst: 3, errorStatuses: [503] });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await api.get(LIST)).status);
    expect(statuses).toEqual([503, 503, 503, 200, 200]);
    expect(h.sim.admin.getFaults().errorBurst).toBe(0);
  });

  test('a faulted batch writes nothing', async () => {
    h.sim.admin.setFaults({ errorRate: 1, errorStatuses: [502] });
    await api.post(`${LIST}/batch/upsert`, { inputs: [upsertInput('faulted@example.com')] });
    expect(h.sim.admin.getContact(portalId, 'faulted@example.com')).toBeUndefined();
  });
});

describe('unexpected 429s', () => {
  test('rateLimitBurst: the next N requests get TEN_SECONDLY_ROLLING 429s that consume nothing', async () => {
    const usedBefore = h.sim.admin.getLimits(portalId).dailyUsed;
    h.sim.admin.setFaults({ rateLimitBurst: 2 });
    const a = await api.get(LIST);
    const b = await api.get(LIST);
    const c = await api.get(LIST);
    expect([a.status, b.status, c.status]).toEqual([429, 429, 200]);
    expect(a.data).toMatchObject({
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
      message: 'You have reached your ten_secondly_rolling limit.',
    });
    expectRateLimitHeaders(a);
    expect(h.sim.admin.getLimits(portalId).dailyUsed).toBe(usedBefore + 1);
    expect(h.sim.admin.stats().faults.injected429).toBeGreaterThanOrEqual(2);
  });

  test('rate429Rate: a fraction of requests get 429', async () => {
    h.sim.admin.setFaults({ rate429Rate: 1 });
    expect((await api.get(LIST)).status).toBe(429);
  });
});

describe('hangs, resets, latency', () => {
  test('a hung request never answers; the client times out', async () => {
    h.sim.admin.setFaults({ hangRate: 1 });
    const started = Date.now();
    await expect(api.get(LIST, { timeout: 300 })).rejects.toMatchObject({ code: 'ECONNABORTED' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(h.sim.admin.stats().faults.hangs).toBeGreaterThanOrEqual(1);
  });

  test('a reset destroys the socket', async () => {
    h.sim.admin.setFaults({ resetRate: 1 });
    await expect(api.get(LIST)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(h.sim.admin.stats().byRoute[`GET ${LIST}`].reset).toBeGreaterThanOrEqual(1);
  });

  test('latency with jitter delays the answer', async () => {
    h.sim.admin.setFaults({ latencyMs: 150, jitterMs: 50 });
    const started = Date.now();
    const res = await api.get(LIST);
    const took = Date.now() - started;
    expect(res.status).toBe(200);
    expect(took).toBeGreaterThanOrEqual(145);
    expect(took).toBeLessThan(1000);
  });
});

describe('scoping and control', () => {
  test('routes limits faults to path prefixes', async () => {
    h.sim.admin.setFaults({ errorRate: 1, errorStatuses: [500], routes: ['/crm/v3/properties'] });
    expect((await api.get('/crm/v3/properties/contacts')).status).toBe(500);
    expect((await api.get(LIST)).status).toBe(200);
  });

  test('admin routes are never faulted', async () => {
    h.sim.admin.setFaults({ errorRate: 1, hangRate: 1, resetRate: 1 });
    const res = await h.anon.get('/__sim/faults');
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ errorRate: 1, hangRate: 1, resetRate: 1 });
  });

  test('a seed makes the sequence of injected faults reproducible', async () => {
    const run = async () => {
      h.sim.admin.setFaults({ errorRate: 0.5, errorStatuses: [500], seed: 7 });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await api.get(LIST)).status);
      return statuses;
    };
    const first = await run();
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await run()).toEqual(first);
  });

  test('PUT /__sim/faults sets, {} clears, bad values → 400', async () => {
    const set = await h.anon.put('/__sim/faults', { errorRate: 1, errorStatuses: [503], routes: ['/crm'] });
    expect(set.status).toBe(200);
    expect(set.data).toEqual({ errorRate: 1, errorStatuses: [503], routes: ['/crm'] });
    expect((await api.get(LIST)).status).toBe(503);
    expect((await h.anon.put('/__sim/faults', {})).data).toEqual({});
    expect((await api.get(LIST)).status).toBe(200);
    for (const bad of [{ errorRate: 2 }, { hangRate: -1 }, { errorStatuses: [418] }, { routes: 'x' }, { typo: 1 }, { seed: -1 }]) {
      const res = await h.anon.put('/__sim/faults', bad);
      expect(res.status).toBe(400);
      expect(res.data).toEqual({ status: 'error', message: expect.any(String) });
    }
  });
});

test('close() ends hung requests and open sockets promptly', async () => {
  const other = await startSim();
  const { token } = other.account();
  other.sim.admin.setFaults({ hangRate: 1 });
  const client = axios.create({ baseURL: other.sim.url, headers: { Authorization: `Bearer ${token}` } });
  const pending = Promise.all(
    Array.from({ length: 5 }, () =>
      client.get(LIST).then(
        () => 'answered',
        () => 'failed',
      ),
    ),
  );
  await new Promise((r) => setTimeout(r, 100));
  expect(other.sim.admin.stats().inFlight).toBe(5);
  const started = Date.now();
  await other.sim.close();
  expect(Date.now() - started).toBeLessThan(1000);
  expect(await pending).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
});
