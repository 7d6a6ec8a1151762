/** Auth and scopes (https://developers.hubspot.com/docs/api-reference/error-handling): 401 bodies and headers, 403 MISSING_SCOPES, token introspection, account info. */
import { AUTH_MESSAGE } from '../../src/hubspot-sim/hubspot-errors';
import { expectCorrelationId, expectRateLimitHeaders, startSim, UUID_RE, type SimHarness } from './helpers';

let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());

function expect401(res: { status: number; data: unknown; headers: Record<string, unknown> }) {
  expect(res.status).toBe(401);
  expect(res.data).toEqual({
    status: 'error',
    message: AUTH_MESSAGE,
    correlationId: expect.stringMatching(UUID_RE),
    category: 'INVALID_AUTHENTICATION',
  });
  expect(res.headers['x-hubspot-auth-failure']).toBe('401 Unauthorized');
  expect(res.headers['x-hubspot-correlation-id']).toBe((res.data as { correlationId: string }).correlationId);
  expect(res.headers['content-type']).toBe('application/json;charset=utf-8');
  // No portal is known, so no rate-limit headers.
  expect(res.headers['x-hubspot-ratelimit-max']).toBeUndefined();
}

describe('401 INVALID_AUTHENTICATION', () => {
  test('missing Authorization header', async () => {
    expect401(await h.anon.get('/crm/v3/objects/contacts'));
  });

  test('unknown token, random string and malformed header get the same body', async () => {
    expect401(await h.client('pat-na1-00000000-0000-0000-0000-000000000000').get('/crm/v3/objects/contacts'));
    expect401(await h.client('not-a-token').post('/crm/v3/objects/contacts/batch/upsert', { inputs: [] }));
    expect401(await h.anon.get('/crm/v3/objects/contacts', { headers: { Authorization: 'Basic abc' } }));
  });

  test('revoked token → 401; other tokens of the portal keep working', async () => {
    const { portalId, token, api } = h.account();
    const second = h.sim.admin.addToken(portalId);
    expect((await api.get('/crm/v3/objects/contacts')).status).toBe(200);
    h.sim.admin.revokeToken(portalId, token);
    expect401(await api.get('/crm/v3/objects/contacts'));
    expect((await h.client(second.token).get('/crm/v3/objects/contacts')).status).toBe(200);
  });

  test('rotated token: old one 401, new one works with the same scopes', async () => {
    const { portalId, token, api } = h.account({ scopes: ['crm.objects.contacts.read'] });
    const { token: fresh } = h.sim.admin.rotateToken(portalId, token);
    expect(fresh).toMatch(/^pat-na1-[0-9a-f-]{36}$/);
    expect401(await api.get('/crm/v3/objects/contacts'));
    const info = await h.anon.post('/oauth/v2/private-apps/get/access-token-info', { tokenKey: fresh });
    expect(info.data.scopes).toEqual(['crm.objects.contacts.read']);
  });
});

describe('401 EXPIRED_AUTHENTICATION', () => {
  test('an expired token gets the OAuth expiry body with context["expire time"]', async () => {
    const { portalId, token, api } = h.account();
    const at = new Date(Date.now() - 90_000).toISOString();
    const admin = await h.anon.post(`/__sim/accounts/${portalId}/tokens/${token}/expire`, { at });
    expect(admin.data).toEqual({ expired: true });
    const res = await api.get('/crm/v3/objects/contacts');
    expect(res.status).toBe(401);
    expect(res.data).toEqual({
      status: 'error',
      message: expect.stringMatching(/^The OAuth token used to make this call expired 9\d second\(s\) ago\.$/),
      correlationId: expect.stringMatching(UUID_RE),
      context: { 'expire time': [at] },
      category: 'EXPIRED_AUTHENTICATION',
    });
    expect(res.headers['x-hubspot-auth-failure']).toBe('401 Unauthorized');
    h.sim.admin.expireToken(portalId, token, new Date(Date.now() - 3 * 86_400_000).toISOString());
    expect((await api.get('/crm/v3/objects/contacts')).data.message).toBe('The OAuth token used to make this call expired 3 day(s) ago.');
  });

  test('a token set to expire in the future still works until then', async () => {
    const { portalId, token, api } = h.account();
    h.sim.admin.expireToken(portalId, token, new Date(Date.now() + 60_000).toISOString());
    expect((await api.get('/crm/v3/objects/contacts')).status).toBe(200);
  });
});

describe('tokens', () => {
  test('private-app tokens look like pat-na1-<uuid>, service keys like sk-na1-<uuid>; both authenticate', async () => {
    const pat = h.account();
    const sk = h.account({ tokenType: 'service-key' });
    expect(pat.token).toMatch(/^pat-na1-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(sk.token).toMatch(/^sk-na1-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await sk.api.get('/crm/v3/objects/contacts')).status).toBe(200);
  });

  test('requests are routed to the portal that owns the token', async () => {
    const a = h.account();
    const b = h.account();
    await a.api.post('/crm/v3/objects/contacts', { properties: { email: 'only-in-a@example.com' } });
    expect((await a.api.get('/crm/v3/objects/contacts/only-in-a@example.com?idProperty=email')).status).toBe(200);
    expect((await b.api.get('/crm/v3/objects/contacts/only-in-a@example.com?idProperty=email')).status).toBe(404);
    expect(h.sim.admin.contactCount(a.portalId)).toBe(1);
    expect(h.sim.admin.contactCount(b.portalId)).toBe(0);
  });
});

describe('403 MISSING_SCOPES', () => {
  test('write without crm.objects.contacts.write', async () => {
    const { api } = h.account({ scopes: ['crm.objects.contacts.read'] });
    const res = await api.post('/crm/v3/objects/contacts/batch/upsert', { inputs: [] });
    expect(res.status).toBe(403);
    expect(res.data).toEqual({
      status: 'error',
      message:
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
      correlationId: expect.stringMatching(UUID_RE),
      errors: [
        {
          message: 'One or more of the following scopes are required.',
          context: { requiredScopes: ['crm.objects.contacts.write'], requiredGranularScopes: ['crm.objects.contacts.write'] },
        },
      ],
      links: { scopes: 'https://developers.hubspot.com/scopes' },
      category: 'MISSING_SCOPES',
    });
    expectCorrelationId(res);
    expectRateLimitHeaders(res);
  });

  test('reads without crm.objects.contacts.read; property writes need crm.schemas.contacts.write', async () => {
    const { api } = h.account({ scopes: ['crm.objects.contacts.write'] });
    const read = await api.get('/crm/v3/objects/contacts');
    expect(read.status).toBe(403);
    expect(read.data.errors[0].context.requiredScopes).toEqual(['crm.objects.contacts.read']);
    const prop = await api.post('/crm/v3/properties/contacts', {
      name: 'x',
      label: 'X',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
    });
    expect(prop.status).toBe(403);
    expect(prop.data.errors[0].context.requiredScopes).toEqual(['crm.schemas.contacts.write']);
  });

  test('property reads accept any scope the spec lists: schema read, object read, even object write', async () => {
    for (const scope of [
      'crm.schemas.contacts.read',
      'crm.objects.contacts.read',
      'crm.objects.contacts.write',
      'crm.objects.deals.read',
    ]) {
      const { api } = h.account({ scopes: [scope] });
      expect((await api.get('/crm/v3/properties/contacts')).status).toBe(200);
      expect((await api.get('/crm/properties/2026-03/contacts/email')).status).toBe(200);
    }
    const none = h.account({ scopes: ['crm.lists.read'] });
    const res = await none.api.get('/crm/v3/properties/contacts');
    expect(res.status).toBe(403);
    expect(res.data.errors[0].context.requiredScopes).toEqual(
      expect.arrayContaining(['crm.objects.contacts.write', 'crm.schemas.contacts.read']),
    );
    // Writes still need the schema write scope.
    const writer = h.account({ scopes: ['crm.objects.contacts.write'] });
    const created = await writer.api.post('/crm/v3/properties/contacts', {
      name: 'x_scope',
      label: 'X',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
    });
    expect(created.status).toBe(403);
  });

  test('new accounts get all four CRM scopes by default', async () => {
    const { token } = h.account();
    const info = await h.anon.post('/oauth/v2/private-apps/get/access-token-info', { tokenKey: token });
    expect(info.data.scopes).toEqual([
      'crm.objects.contacts.read',
      'crm.objects.contacts.write',
      'crm.schemas.contacts.read',
      'crm.schemas.contacts.write',
    ]);
  });
});

describe('token introspection', () => {
  test('POST /oauth/v2/private-apps/get/access-token-info → {userId, hubId, appId, scopes}', async () => {
    const { portalId, token } = h.account({ scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write'] });
    const res = await h.anon.post(
      '/oauth/v2/private-apps/get/access-token-info',
      { tokenKey: token },
      { headers: { Authorization: `Bearer ${token}` } },
    );
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      userId: expect.any(Number),
      hubId: portalId,
      appId: expect.any(Number),
      scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write'],
    });
    expectCorrelationId(res);
  });

  test('unknown or revoked tokenKey → 401 INVALID_AUTHENTICATION', async () => {
    expect401(await h.anon.post('/oauth/v2/private-apps/get/access-token-info', { tokenKey: 'pat-na1-nope' }));
    const { portalId, token } = h.account();
    h.sim.admin.revokeToken(portalId, token);
    expect401(await h.anon.post('/oauth/v2/private-apps/get/access-token-info', { tokenKey: token }));
  });
});

describe('account info', () => {
  test('GET /account-info/v3/details', async () => {
    const { portalId, api } = h.account({ timeZone: 'Europe/Paris' });
    const res = await api.get('/account-info/v3/details');
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      portalId,
      accountType: 'STANDARD',
      timeZone: 'Europe/Paris',
      companyCurrency: 'USD',
      additionalCurrencies: [],
      utcOffset: expect.stringMatching(/^\+0[12]:00$/),
      utcOffsetMilliseconds: expect.any(Number),
      uiDomain: 'app.hubspot.com',
      dataHostingLocation: 'na1',
    });
    expect([3_600_000, 7_200_000]).toContain(res.data.utcOffsetMilliseconds);
    expectRateLimitHeaders(res);
  });

  test('default time zone is US/Eastern', async () => {
    const { api } = h.account();
    const res = await api.get('/account-info/v3/details');
    expect(res.data.timeZone).toBe('US/Eastern');
    expect(['-05:00', '-04:00']).toContain(res.data.utcOffset);
  });

  test("GET /account-info/v3/api-usage/daily/private-apps counts today's calls", async () => {
    const { api } = h.account({ tier: 'pro' });
    await api.get('/crm/v3/objects/contacts');
    const res = await api.get('/account-info/v3/api-usage/daily/private-apps');
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      results: [
        {
          name: 'private-apps-api-calls-daily',
          usageLimit: 625_000,
          currentUsage: 1, // the usage call itself is unmetered
          collectedAt: expect.any(String),
          fetchStatus: 'SUCCESS',
          resetsAt: expect.any(String),
        },
      ],
    });
    expect(Date.parse(res.data.results[0].resetsAt)).toBeGreaterThan(Date.now());
  });
});
