/** The `/__sim` admin API and in-process SimAdmin: accounts, tokens, data views, limits, stats, reset, snapshot. */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep, startSim, upsertInput, type SimHarness } from './helpers';

let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());

describe('accounts and tokens over HTTP', () => {
  test('POST /__sim/accounts with defaults', async () => {
    const res = await h.anon.post('/__sim/accounts', {});
    expect(res.status).toBe(201);
    expect(res.data).toEqual({
      portalId: expect.any(Number),
      token: expect.stringMatching(/^pat-na1-/),
      tokenType: 'private-app',
      tier: 'free',
      apiAddOn: 0,
      scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.schemas.contacts.read', 'crm.schemas.contacts.write'],
      timeZone: 'US/Eastern',
    });
    const contacts = await h.client(res.data.token).get('/crm/v3/objects/contacts');
    expect(contacts.status).toBe(200);
  });

  test('POST /__sim/accounts with every option; bad values → 400', async () => {
    const res = await h.anon.post('/__sim/accounts', {
      tier: 'enterprise',
      apiAddOn: true,
      scopes: ['crm.objects.contacts.read'],
      timeZone: 'Europe/Berlin',
      tokenType: 'service-key',
    });
    expect(res.data).toMatchObject({
      tier: 'enterprise',
      apiAddOn: 1,
      scopes: ['crm.objects.contacts.read'],
      timeZone: 'Europe/Berlin',
      tokenType: 'service-key',
      token: expect.stringMatching(/^sk-na1-/),
    });
    for (const bad of [{ tier: 'gold' }, { timeZone: 'Mars/Olympus' }, { tokenType: 'oauth' }, { scopes: 'all' }]) {
      const r = await h.anon.post('/__sim/accounts', bad);
      expect(r.status).toBe(400);
      expect(r.data).toEqual({ status: 'error', message: expect.any(String) });
    }
  });

  test('GET /__sim/accounts and /__sim/accounts/:portalId never show token values', async () => {
    const { portalId } = (await h.anon.post('/__sim/accounts', { tier: 'pro' })).data;
    const one = await h.anon.get(`/__sim/accounts/${portalId}`);
    expect(one.data).toMatchObject({
      portalId,
      tier: 'pro',
      contactCount: 0,
      limits: { tenSecondly: 190, daily: 625_000 },
      tokens: [{ tokenType: 'private-app', revoked: false }],
    });
    expect(JSON.stringify(one.data)).not.toContain('pat-na1-');
    const all = await h.anon.get('/__sim/accounts');
    expect(all.data.results.map((a: { portalId: number }) => a.portalId)).toContain(portalId);
    expect((await h.anon.get('/__sim/accounts/1')).status).toBe(404);
  });

  test('add, revoke and rotate tokens', async () => {
    const { portalId, token } = (await h.anon.post('/__sim/accounts', {})).data;
    const added = await h.anon.post(`/__sim/accounts/${portalId}/tokens`, {
      tokenType: 'service-key',
      scopes: ['crm.objects.contacts.read'],
    });
    expect(added.status).toBe(201);
    expect(added.data).toMatchObject({
      token: expect.stringMatching(/^sk-na1-/),
      tokenType: 'service-key',
      scopes: ['crm.objects.contacts.read'],
    });
    const revoked = await h.anon.post(`/__sim/accounts/${portalId}/tokens/${token}/revoke`);
    expect(revoked.data).toEqual({ revoked: true });
    expect((await h.client(token).get('/crm/v3/objects/contacts')).status).toBe(401);
    const rotated = await h.anon.post(`/__sim/accounts/${portalId}/tokens/${added.data.token}/rotate`);
    expect(rotated.data.token).toMatch(/^sk-na1-/);
    expect((await h.client(added.data.token).get('/crm/v3/objects/contacts')).status).toBe(401);
    expect((await h.client(rotated.data.token).get('/crm/v3/objects/contacts')).status).toBe(200);
    expect((await h.anon.post(`/__sim/accounts/${portalId}/tokens/pat-na1-unknown/revoke`)).status).toBe(404);
  });
});

describe('data views', () => {
  let portalId: number;
  beforeAll(async () => {
    const acc = h.account();
    portalId = acc.portalId;
    await acc.api.post('/crm/v3/objects/contacts/batch/upsert', {
      inputs: Array.from({ length: 7 }, (_, i) => upsertInput(`view${i}@example.com`, { firstname: `F${i}`, city: 'Rome' })),
    });
  });

  test('GET contacts: HubSpot list shape with every stored property, paging', async () => {
    const page = await h.anon.get(`/__sim/accounts/${portalId}/contacts?limit=5`);
    expect(page.status).toBe(200);
    expect(page.data.results).toHaveLength(5);
    expect(page.data.results[0]).toMatchObject({
      id: expect.any(String),
      properties: { email: 'view0@example.com', firstname: 'F0', city: 'Rome', hs_object_id: expect.any(String) },
    });
    const next = await h.anon.get(`/__sim/accounts/${portalId}/contacts?limit=5&after=${encodeURIComponent(page.data.paging.next.after)}`);
    expect(next.data.results).toHaveLength(2);
    expect(next.data.paging).toBeUndefined();
    expect(page.data.paging.next.link).toContain(`/__sim/accounts/${portalId}/contacts?`);
  });

  test('GET contacts?email= (case-insensitive) and count', async () => {
    const one = await h.anon.get(`/__sim/accounts/${portalId}/contacts?email=VIEW3@example.com`);
    expect(one.data.results).toHaveLength(1);
    expect(one.data.results[0].properties.firstname).toBe('F3');
    expect((await h.anon.get(`/__sim/accounts/${portalId}/contacts?email=none@example.com`)).data).toEqual({ results: [] });
    expect((await h.anon.get(`/__sim/accounts/${portalId}/contacts/count`)).data).toEqual({ count: 7 });
    expect(h.sim.admin.listContacts(portalId, { limit: 100 }).results).toHaveLength(7);
  });

  test('GET properties (and archived ones)', async () => {
    const res = await h.anon.get(`/__sim/accounts/${portalId}/properties`);
    expect(res.data.results.find((p: { name: string }) => p.name === 'email')).toMatchObject({ type: 'string', fieldType: 'text' });
    expect((await h.anon.get(`/__sim/accounts/${portalId}/properties?archived=true`)).data).toEqual({ results: [] });
  });

  test('GET/PUT limits', async () => {
    const put = await h.anon.put(`/__sim/accounts/${portalId}/limits`, { tenSecondly: 7, daily: 70, searchPerSecond: 2 });
    expect(put.data).toMatchObject({
      tenSecondly: 7,
      daily: 70,
      searchPerSecond: 2,
      dailyUsed: 1,
      dailyRemaining: 69,
      dailyResetsAt: expect.any(String),
    });
    expect((await h.anon.get(`/__sim/accounts/${portalId}/limits`)).data.tenSecondly).toBe(7);
    expect((await h.anon.put(`/__sim/accounts/${portalId}/limits`, { daily: -1 })).status).toBe(400);
    expect((await h.anon.put(`/__sim/accounts/${portalId}/limits`, { dailyResetsAt: 'soon' })).status).toBe(400);
  });

  test('unknown admin route → 404', async () => {
    expect((await h.anon.get('/__sim/nope')).status).toBe(404);
  });
});

describe('stats', () => {
  test('by route and status, admin routes excluded, peak concurrency', async () => {
    const other = await startSim();
    try {
      const { api, portalId } = other.account();
      await api.get('/crm/v3/objects/contacts');
      await api.get('/crm/v3/objects/contacts/123');
      await other.anon.get('/crm/v3/objects/contacts');
      await other.anon.get('/__sim/accounts');
      other.sim.admin.setFaults({ latencyMs: 150 });
      await Promise.all(Array.from({ length: 6 }, () => api.post('/crm/v3/objects/contacts/batch/upsert', { inputs: [] })));
      other.sim.admin.setFaults({});
      const stats = (await other.anon.get('/__sim/stats')).data;
      expect(stats.byRoute).toEqual({
        'GET /crm/v3/objects/contacts': { 200: 1, 401: 1 },
        'GET /crm/v3/objects/contacts/:contactId': { 404: 1 },
        'POST /crm/v3/objects/contacts/batch/upsert': { 200: 6 },
      });
      expect(stats.totalRequests).toBe(9);
      expect(stats.peakConcurrency).toBe(6);
      expect(stats.inFlight).toBe(0);
      expect(stats.portals[String(portalId)]).toEqual({ requests: 8, maxRequestsIn10s: 8, maxAcceptedIn10s: 8, rateLimited: 0 });
      expect(stats.rateLimited).toEqual({ TEN_SECONDLY_ROLLING: 0, DAILY: 0, SECONDLY: 0 });
      expect(stats.faults.delayed).toBe(6);
      expect(stats.process).toEqual({ cpuUserMs: expect.any(Number), cpuSystemMs: expect.any(Number), rssBytes: expect.any(Number) });
      // Admin calls never count toward the portal's rate limits either.
      expect(other.sim.admin.getLimits(portalId).dailyUsed).toBe(8);
      expect((await other.anon.delete('/__sim/stats')).status).toBe(204);
      expect(other.sim.admin.stats().totalRequests).toBe(0);
    } finally {
      await other.sim.close();
    }
  });
});

test('POST /__sim/reset clears accounts, contacts, stats and faults', async () => {
  const other = await startSim();
  try {
    const { api, portalId } = other.account();
    await api.post('/crm/v3/objects/contacts', { properties: { email: 'r@example.com' } });
    other.sim.admin.setFaults({ latencyMs: 1 });
    expect((await other.anon.post('/__sim/reset')).status).toBe(204);
    expect((await api.get('/crm/v3/objects/contacts')).status).toBe(401);
    expect(() => other.sim.admin.contactCount(portalId)).toThrow();
    expect(other.sim.admin.listAccounts()).toEqual([]);
    expect(other.sim.admin.getFaults()).toEqual({});
    expect(other.sim.admin.stats().totalRequests).toBe(1);
  } finally {
    await other.sim.close();
  }
});

describe('snapshot', () => {
  test('state survives a restart: tokens, contacts, custom properties, limits', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'hubspot-sim-')), 'state.json');
    const first = await startSim({ snapshotPath: file });
    const { portalId, token, api } = first.account({ tier: 'pro', label: 'demo' });
    await api.post('/crm/v3/properties/contacts', {
      name: 'loyalty',
      label: 'Loyalty',
      type: 'number',
      fieldType: 'number',
      groupName: 'contactinformation',
    });
    await api.post('/crm/v3/objects/contacts/batch/upsert', { inputs: [upsertInput('keep@example.com', { loyalty: '3' })] });
    first.sim.admin.setLimits(portalId, { tenSecondly: 42 });
    first.sim.admin.setBehaviour(portalId, { upsertPartial: 'all-or-nothing', writeRules: [{ require: ['lastname'] }] });
    await first.sim.close();
    expect(existsSync(file)).toBe(true);

    const second = await startSim({ snapshotPath: file });
    try {
      expect(second.sim.admin.findAccountByLabel('demo')?.portalId).toBe(portalId);
      expect(second.sim.admin.activeToken(portalId)).toBe(token);
      expect(second.sim.admin.getBehaviour(portalId)).toEqual({
        upsertPartial: 'all-or-nothing',
        echoTraceIds: true,
        burstScope: 'app',
        writeRules: [{ require: ['lastname'], onCreateOnly: false }],
      });
      const res = await second.client(token).get('/crm/v3/objects/contacts/keep@example.com?idProperty=email&properties=loyalty');
      expect(res.status).toBe(200);
      expect(res.data.properties.loyalty).toBe('3');
      expect(res.headers['x-hubspot-ratelimit-max']).toBe('42');
      // New contacts continue the id sequence.
      const next = await second.client(token).post('/crm/v3/objects/contacts', { properties: { email: 'next@example.com' } });
      expect(Number(next.data.id)).toBeGreaterThan(Number(res.data.id));
      const other = second.account();
      expect(other.portalId).toBeGreaterThan(portalId);
    } finally {
      await second.sim.close();
    }
  });

  test('written periodically (debounced) after changes, not only on close', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'hubspot-sim-')), 'state.json');
    const sim = await startSim({ snapshotPath: file, snapshotDebounceMs: 50 });
    try {
      const { api } = sim.account();
      await api.post('/crm/v3/objects/contacts/batch/upsert', { inputs: [upsertInput('periodic@example.com')] });
      await sleep(300);
      expect(readFileSync(file, 'utf8')).toContain('periodic@example.com');
    } finally {
      await sim.sim.close();
    }
  });
});
