/**
 * HTTP boundary (nock): a client built with `apiVersion` sends every versioned call to that version's
 * path (objects, properties and groups, account info); token introspection has no dated form and stays
 * on /oauth/v2. Without `apiVersion` the client keeps the v3 paths.
 */
import nock from 'nock';
import { HubSpotClient } from '../../../src/hubspot/client';
import type { ApiVersion } from '../../../src/hubspot/paths';

const BASE = 'https://api.hubapi.test';
const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';
const client = (apiVersion?: ApiVersion) => new HubSpotClient({ baseUrl: BASE, token: TOKEN, timeoutMs: 2000, apiVersion });

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => nock.enableNetConnect());

async function everyCall(c: HubSpotClient): Promise<void> {
  await c.getAccessTokenInfo();
  await c.getAccountDetails();
  await c.getDailyUsage();
  await c.listContactProperties();
  await c.getContactProperty('a b');
  await c.createContactProperty({ name: 'x', label: 'X', type: 'string', fieldType: 'text', groupName: 'g' });
  await c.updateContactProperty('x', { label: 'Y' });
  await c.listPropertyGroups();
  await c.createPropertyGroup({ name: 'g', label: 'G' });
  await c.batchUpsertContacts([{ email: 'a@example.com', properties: {} }]);
  await c.batchReadContactsByEmail(['a@example.com'], ['email']);
  await c.searchContactByEmail('a@example.com', ['email']);
}

function expectPaths(v: string, dated: boolean): void {
  const objects = dated ? `/crm/objects/${v}/contacts` : `/crm/${v}/objects/contacts`;
  const properties = dated ? `/crm/properties/${v}/contacts` : `/crm/${v}/properties/contacts`;
  nock(BASE, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
    .post('/oauth/v2/private-apps/get/access-token-info')
    .reply(200, { hubId: 1, scopes: [] })
    .get(`/account-info/${v}/details`)
    .reply(200, { portalId: 1, timeZone: 'UTC' })
    .get(`/account-info/${v}/api-usage/daily/private-apps`)
    .reply(200, { results: [] })
    .get(properties)
    .reply(200, { results: [] })
    .get(`${properties}/a%20b`)
    .reply(200, { name: 'a b' })
    .post(properties)
    .reply(201, { name: 'x' })
    .patch(`${properties}/x`)
    .reply(200, { name: 'x' })
    .get(`${properties}/groups`)
    .reply(200, { results: [] })
    .post(`${properties}/groups`)
    .reply(201, {})
    .post(`${objects}/batch/upsert`)
    .reply(200, { results: [] })
    .post(`${objects}/batch/read`)
    .reply(200, { results: [] })
    .post(`${objects}/search`)
    .reply(200, { results: [] });
}

test.each(['2026-03', '2026-09'] as const)('apiVersion %s: every versioned call on its dated path', async (v) => {
  expectPaths(v, true);
  await everyCall(client(v));
});

test('apiVersion v3, and no apiVersion: the legacy paths', async () => {
  expectPaths('v3', false);
  await everyCall(client('v3'));
  expectPaths('v3', false);
  await everyCall(client());
});
