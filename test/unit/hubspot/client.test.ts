/**
 * HTTP-boundary tests of the HubSpot client (nock): the exact requests it sends — method, path, query,
 * headers (bearer auth), JSON body — and how it classifies HubSpot's answers. No simulator: these pin the
 * wire format as HubSpot documents it, so a change to a path, a header or a body shows up here.
 */
import nock from 'nock';
import type { RateGovernor } from '../../../src/governor/governor';
import { HubSpotClient, type HubSpotCallEvent } from '../../../src/hubspot/client';
import { HubSpotApiError } from '../../../src/hubspot/errors';
import { hubspotPaths } from '../../../src/hubspot/paths';

const BASE = 'https://api.hubapi.test';
const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';
const noSleep = async () => undefined;
/** What a dropped keep-alive socket looks like to the client (an Error: nock times out on plain objects). */
const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

function client(extra: Partial<ConstructorParameters<typeof HubSpotClient>[0]> = {}): HubSpotClient {
  return new HubSpotClient({ baseUrl: `${BASE}/`, token: TOKEN, timeoutMs: 2000, ...extra });
}

/** A scope that only matches requests carrying the client's auth and JSON headers. */
function hubspot() {
  return nock(BASE, {
    reqheaders: { authorization: `Bearer ${TOKEN}`, accept: 'application/json' },
  });
}

async function caught(p: Promise<unknown>): Promise<HubSpotApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubSpotApiError);
  return err as HubSpotApiError;
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]); // every expected request was sent
});
afterAll(() => nock.enableNetConnect());

describe('requests', () => {
  test('token info: POST with the token in the body and the bearer header', async () => {
    hubspot()
      .post('/oauth/v2/private-apps/get/access-token-info', { tokenKey: TOKEN })
      .matchHeader('content-type', /^application\/json/)
      .reply(200, { userId: 7, hubId: '123', appId: 9, scopes: ['crm.objects.contacts.read'] });
    await expect(client().getAccessTokenInfo()).resolves.toEqual({
      userId: 7,
      hubId: 123,
      appId: 9,
      scopes: ['crm.objects.contacts.read'],
    });
  });

  test('account details and daily usage: GETs on account-info v3', async () => {
    hubspot().get('/account-info/v3/details').reply(200, { portalId: 123, timeZone: 'Europe/Berlin' });
    hubspot()
      .get('/account-info/v3/api-usage/daily/private-apps')
      .reply(200, { results: [{ usageLimit: 500000, currentUsage: 12, resetsAt: '2026-12-02T00:00:00Z' }] });
    await expect(client().getAccountDetails()).resolves.toMatchObject({ portalId: 123, timeZone: 'Europe/Berlin' });
    await expect(client().getDailyUsage()).resolves.toEqual({ usageLimit: 500000, currentUsage: 12, resetsAt: '2026-12-02T00:00:00Z' });
  });

  test('properties: list (archived query), get/patch with the name URL-encoded, create, groups', async () => {
    hubspot()
      .get('/crm/v3/properties/contacts')
      .query({ archived: 'true' })
      .reply(200, { results: [{ name: 'email' }] });
    hubspot().get('/crm/v3/properties/contacts').query({}).reply(200, { results: [] });
    hubspot().get('/crm/v3/properties/contacts/a%2Fb%20c').reply(200, { name: 'a/b c' });
    hubspot().get('/crm/v3/properties/contacts/missing').reply(404, { status: 'error', category: 'OBJECT_NOT_FOUND' });
    hubspot().patch('/crm/v3/properties/contacts/hsd_aud_x', { label: 'New' }).reply(200, { name: 'hsd_aud_x', label: 'New' });
    const def = { name: 'p', label: 'P', type: 'string' as const, fieldType: 'text', groupName: 'contactinformation' };
    hubspot().post('/crm/v3/properties/contacts', def).reply(201, def);
    hubspot()
      .get('/crm/v3/properties/contacts/groups')
      .reply(200, { results: [{ name: 'g', label: 'G' }] });
    hubspot().post('/crm/v3/properties/contacts/groups', { name: 'g', label: 'G' }).reply(201, {});
    const c = client();
    await expect(c.listContactProperties({ archived: true })).resolves.toEqual([{ name: 'email' }]);
    await expect(c.listContactProperties()).resolves.toEqual([]);
    await expect(c.getContactProperty('a/b c')).resolves.toEqual({ name: 'a/b c' });
    await expect(c.getContactProperty('missing')).resolves.toBeUndefined();
    await expect(c.updateContactProperty('hsd_aud_x', { label: 'New' })).resolves.toMatchObject({ label: 'New' });
    await expect(c.createContactProperty(def)).resolves.toEqual(def);
    await expect(c.listPropertyGroups()).resolves.toEqual([{ name: 'g', label: 'G' }]);
    await expect(c.createPropertyGroup({ name: 'g', label: 'G' })).resolves.toBeUndefined();
  });

  test('batch upsert: inputs keyed by email (not repeated as a property), with trace ids only when given', async () => {
    hubspot()
      .post('/crm/v3/objects/contacts/batch/upsert', {
        inputs: [
          { id: 'a@example.com', idProperty: 'email', properties: { firstname: 'A' }, objectWriteTraceId: '0' },
          { id: 'b@example.com', idProperty: 'email', properties: {} },
        ],
      })
      .reply(200, {
        status: 'COMPLETE',
        results: [
          { id: '1', properties: { email: 'a@example.com' }, new: true, objectWriteTraceId: '0' },
          { id: '2', properties: { email: 'b@example.com' }, new: false },
        ],
      });
    const out = await client().batchUpsertContacts([
      { email: 'a@example.com', properties: { email: 'a@example.com', firstname: 'A' }, traceId: '0' },
      { email: 'b@example.com', properties: { email: 'b@example.com' } },
    ]);
    expect(out).toEqual({
      status: 200,
      results: [
        { id: '1', email: 'a@example.com', isNew: true, objectWriteTraceId: '0' },
        { id: '2', email: 'b@example.com', isNew: false, objectWriteTraceId: undefined },
      ],
      errors: [],
    });
  });

  test('batch upsert refuses more than 100 contacts without sending anything', async () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ email: `c${i}@example.com`, properties: {} }));
    await expect(client().batchUpsertContacts(many)).rejects.toThrow(/at most 100/);
  });

  test('batch read by email and search by email', async () => {
    hubspot()
      .post('/crm/v3/objects/contacts/batch/read', {
        idProperty: 'email',
        inputs: [{ id: 'a@example.com' }],
        properties: ['firstname'],
        propertiesWithHistory: [],
      })
      .reply(200, { results: [{ id: '1', properties: { firstname: 'A' } }] });
    hubspot()
      .post('/crm/v3/objects/contacts/search', {
        filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'a@example.com' }] }],
        properties: ['firstname'],
        limit: 1,
      })
      .reply(200, { total: 1, results: [{ id: '1', properties: { firstname: 'A' } }] });
    await expect(client().batchReadContactsByEmail(['a@example.com'], ['firstname'])).resolves.toEqual([
      { id: '1', properties: { firstname: 'A' } },
    ]);
    await expect(client().searchContactByEmail('a@example.com', ['firstname'])).resolves.toEqual({
      id: '1',
      properties: { firstname: 'A' },
    });
  });

  test('no redirects are followed (the token must not travel to another host)', async () => {
    hubspot().get('/account-info/v3/details').reply(301, '', { location: 'https://elsewhere.test/steal' });
    const err = await caught(client().getAccountDetails());
    expect(err.info.status).toBe(301);
  });
});

describe('answers', () => {
  test('207: per-record errors with their codes and trace ids; the call resolves', async () => {
    hubspot()
      .post('/crm/v3/objects/contacts/batch/upsert')
      .reply(207, {
        status: 'COMPLETE',
        results: [{ id: '1', properties: { email: 'a@example.com' }, new: true, objectWriteTraceId: '0' }],
        errors: [
          {
            status: 'error',
            category: 'VALIDATION_ERROR',
            message: 'Property values were not valid: [{"isValid":false,"message":"bad","error":"INVALID_EMAIL","name":"email"}]',
            context: { objectWriteTraceId: ['1'] },
          },
          {
            status: 'error',
            category: 'VALIDATION_ERROR',
            message: 'x',
            context: { ids: ['c@example.com'] },
            errors: [{ code: 'INVALID_OPTION' }],
          },
        ],
      });
    const out = await client().batchUpsertContacts([
      { email: 'a@example.com', properties: {}, traceId: '0' },
      { email: 'b', properties: {}, traceId: '1' },
      { email: 'c@example.com', properties: {}, traceId: '2' },
    ]);
    expect(out.status).toBe(207);
    expect(out.errors).toEqual([
      {
        category: 'VALIDATION_ERROR',
        code: 'INVALID_EMAIL',
        message: expect.stringContaining('INVALID_EMAIL'),
        objectWriteTraceIds: ['1'],
        ids: [],
      },
      { category: 'VALIDATION_ERROR', code: 'INVALID_OPTION', message: 'x', objectWriteTraceIds: [], ids: ['c@example.com'] },
    ]);
  });

  test('whole-batch 400: a validation error, not retried', async () => {
    hubspot().post('/crm/v3/objects/contacts/batch/upsert').once().reply(400, {
      status: 'error',
      category: 'VALIDATION_ERROR',
      message: 'Property values were not valid: [{"error":"INVALID_EMAIL"}]',
    });
    const err = await caught(client().batchUpsertContacts([{ email: 'x', properties: {} }], { retry: { sleep: noSleep } }));
    expect(err).toMatchObject({ kind: 'validation', retryable: false });
    expect(err.info).toMatchObject({ status: 400, category: 'VALIDATION_ERROR', route: 'POST /crm/v3/objects/contacts/batch/upsert' });
    expect(err.failure.type).toBe('HubSpotRequestInvalid');
  });

  test('401: an auth failure at once, one request, the token never in the message', async () => {
    hubspot()
      .get('/account-info/v3/details')
      .once()
      .reply(401, { status: 'error', category: 'INVALID_AUTHENTICATION', message: `Token ${TOKEN} is not valid` });
    const err = await caught(client().getAccountDetails());
    expect(err).toMatchObject({ kind: 'auth', retryable: false });
    expect(err.failure.type).toBe('HubSpotAuthFailed');
    expect(err.message).not.toContain(TOKEN);
    expect(JSON.stringify(err.info)).not.toContain(TOKEN);
  });

  test('403 MISSING_SCOPES: a scope error naming the required scopes; other 403s are auth errors', async () => {
    hubspot()
      .get('/crm/v3/properties/contacts')
      .reply(403, {
        status: 'error',
        category: 'MISSING_SCOPES',
        message: 'This app hasn\u2019t been granted all required scopes',
        errors: [{ message: 'missing', context: { requiredGranularScopes: ['crm.schemas.contacts.read'] } }],
      });
    hubspot().get('/crm/v3/properties/contacts').reply(403, { status: 'error', category: 'FORBIDDEN', message: 'Portal locked' });
    const scope = await caught(client().listContactProperties());
    expect(scope).toMatchObject({ kind: 'scope', retryable: false });
    expect(scope.info.requiredScopes).toEqual(['crm.schemas.contacts.read']);
    expect(scope.message).toContain('crm.schemas.contacts.read');
    const forbidden = await caught(client().listContactProperties());
    expect(forbidden.kind).toBe('auth');
    expect(forbidden.message).toContain('Portal locked');
  });

  test('429: rate limit with policy, Retry-After and rate-limit headers handed to the governor; retried, then given up', async () => {
    const observed: Array<{ status: number; info: unknown; policy?: string; retryAfterMs?: number }> = [];
    const governor = {
      acquire: async () => undefined,
      observe: async (_key: string, obs: { status: number; info: unknown; policy?: string; retryAfterMs?: number }) => {
        observed.push({ status: obs.status, info: obs.info, policy: obs.policy, retryAfterMs: obs.retryAfterMs });
      },
    } as unknown as RateGovernor;
    const headers = {
      'retry-after': '2',
      'x-hubspot-ratelimit-max': '190',
      'x-hubspot-ratelimit-remaining': '0',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
      'x-hubspot-ratelimit-daily': '1000000',
      'x-hubspot-ratelimit-daily-remaining': '999000',
    };
    const body = {
      status: 'error',
      category: 'RATE_LIMITS',
      policyName: 'TEN_SECONDLY_ROLLING',
      message: 'You have reached your ten_secondly_rolling limit.',
    };
    hubspot().post('/crm/v3/objects/contacts/batch/upsert').times(3).reply(429, body, headers);
    const sleeps: number[] = [];
    const err = await caught(
      client({ governor, accountKey: 'portal:1' }).batchUpsertContacts([{ email: 'a@example.com', properties: {} }], {
        retry: { attempts: 3, sleep: async (ms) => void sleeps.push(ms) },
      }),
    );
    expect(err).toMatchObject({ kind: 'rate_limit', retryable: true });
    expect(err.info).toMatchObject({ status: 429, policy: 'TEN_SECONDLY_ROLLING', retryAfterMs: 2000 });
    expect(err.failure.type).toBe('HubSpotRateLimited');
    expect(observed).toHaveLength(3);
    expect(observed[0]).toEqual({
      status: 429,
      policy: 'TEN_SECONDLY_ROLLING',
      retryAfterMs: 2000,
      info: {
        max: 190,
        remaining: 0,
        intervalMs: 10000,
        daily: 1000000,
        dailyRemaining: 999000,
        secondly: undefined,
        secondlyRemaining: undefined,
      },
    });
    // Two waits of half to all of Retry-After (jitter), then the third failure is thrown.
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) {
      expect(ms).toBeGreaterThanOrEqual(1000);
      expect(ms).toBeLessThanOrEqual(2000);
    }
  });

  test('429 DAILY is thrown at once (the reset is hours away)', async () => {
    hubspot()
      .get('/crm/v3/properties/contacts')
      .once()
      .reply(429, { status: 'error', category: 'RATE_LIMITS', policyName: 'DAILY', message: 'You have reached your daily limit.' });
    const err = await caught(client().listContactProperties());
    expect(err).toMatchObject({ kind: 'rate_limit' });
    expect(err.info.policy).toBe('DAILY');
  });

  test('5xx (HTML from the edge) is transient and retried until it lands; the call events say what happened', async () => {
    const calls: HubSpotCallEvent[] = [];
    hubspot().get('/crm/v3/properties/contacts').reply(502, '<html>Bad gateway</html>', { 'content-type': 'text/html' });
    hubspot().get('/crm/v3/properties/contacts').reply(503, { status: 'error', message: 'down' });
    hubspot()
      .get('/crm/v3/properties/contacts')
      .reply(200, { results: [{ name: 'email' }] });
    await expect(client({ onCall: (e) => calls.push(e) }).listContactProperties()).resolves.toEqual([{ name: 'email' }]);
    expect(calls.map((c) => [c.method, c.route, c.status])).toEqual([
      ['GET', '/crm/v3/properties/contacts', 502],
      ['GET', '/crm/v3/properties/contacts', 503],
      ['GET', '/crm/v3/properties/contacts', 200],
    ]);
  });

  test('5xx on every attempt: the last transient error is thrown after the configured attempts', async () => {
    hubspot().get('/account-info/v3/details').times(2).reply(504, 'Gateway Timeout');
    const err = await caught(client({ attempts: 2 }).getAccountDetails());
    expect(err).toMatchObject({ kind: 'transient', retryable: true });
    expect(err.info.status).toBe(504);
    expect(err.failure.type).toBe('HubSpotUnavailable');
    expect(err.message).toBe('HubSpot is temporarily unavailable (504) on GET /account-info/v3/details.');
  });

  test('connection reset: transient with the network code, retried; a batch upsert retries with its own policy', async () => {
    hubspot().post('/crm/v3/objects/contacts/batch/upsert').replyWithError(reset());
    hubspot().post('/crm/v3/objects/contacts/batch/upsert').reply(200, { results: [] });
    const calls: HubSpotCallEvent[] = [];
    await expect(
      client({ attempts: 1, onCall: (e) => calls.push(e) }).batchUpsertContacts([{ email: 'a@example.com', properties: {} }], {
        retry: { sleep: noSleep },
      }),
    ).resolves.toMatchObject({ status: 200 });
    expect(calls.map((c) => c.status)).toEqual(['network_error', 200]);

    hubspot().get('/account-info/v3/details').replyWithError(reset());
    const err = await caught(client({ attempts: 1 }).getAccountDetails());
    expect(err).toMatchObject({ kind: 'transient', retryable: true });
    expect(err.info).toMatchObject({ networkCode: 'ECONNRESET', route: 'GET /account-info/v3/details' });
    expect(err.message).toBe('No answer from HubSpot on GET /account-info/v3/details (ECONNRESET).');
  });
});

describe('paths', () => {
  test('v3 today; date versions move the version after the API family', () => {
    expect(hubspotPaths.batchUpsertContacts()).toEqual({
      method: 'POST',
      route: '/crm/v3/objects/contacts/batch/upsert',
      path: '/crm/v3/objects/contacts/batch/upsert',
    });
    expect(hubspotPaths.batchUpsertContacts('2026-03').path).toBe('/crm/objects/2026-03/contacts/batch/upsert');
    expect(hubspotPaths.listContactProperties('2026-03').path).toBe('/crm/properties/2026-03/contacts');
    expect(hubspotPaths.accountDetails('2026-03').path).toBe('/account-info/2026-03/details');
    expect(hubspotPaths.getContactProperty('a b')).toEqual({
      method: 'GET',
      route: '/crm/v3/properties/contacts/{propertyName}',
      path: '/crm/v3/properties/contacts/a%20b',
    });
  });
});
