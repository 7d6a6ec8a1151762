/**
 * Match keys (issue 17) on real parts: a destination matching contacts by a custom property HubSpot keeps
 * unique (`hasUniqueValue`) upserts by it — a member whose email changed updates its contact instead of
 * creating one — while a non-unique property is refused (422, saying why) on create and on PATCH.
 */
import axios from 'axios';
import { waitForEnd } from '../helpers/activation';
import { activateWith, members, profileOf, writeProfiles } from '../helpers/safe-runs';
import { DEFAULT_MAPPING, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(300_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function accountWithKeys() {
  const account = stack.sim.admin.createAccount({ tier: 'pro' });
  const hs = axios.create({ baseURL: stack.sim.url, headers: { Authorization: `Bearer ${account.token}` }, validateStatus: () => true });
  for (const [name, unique] of [
    ['loyalty_id', true],
    ['member_code', false],
  ] as const) {
    const res = await hs.post('/crm/v3/properties/contacts', {
      name,
      label: name,
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
      hasUniqueValue: unique,
    });
    expect(res.status).toBe(201);
  }
  return account;
}

const mappingWith = (target: string) => ({ attributes: [...DEFAULT_MAPPING, { source: 'loyalty.id', target }], matchKey: target });

test('a unique custom property as match key: contacts are found by it, even after an email change', async () => {
  const account = await accountWithKeys();
  const created = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: { name: 'By loyalty id', hubspot: { token: account.token, baseUrl: stack.sim.url }, mapping: mappingWith('loyalty_id') },
  });
  expect(created.statusCode).toBe(201);
  const destinationId = created.json<{ id: string }>().id;
  const view = await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}` });
  expect(view.json().mapping.matchKey).toBe('loyalty_id');

  const first = members(200, 'key', (i) => ({ loyaltyId: `L-${i}` }));
  const one = await waitForEnd(stack, await activateWith(stack, destinationId, writeProfiles(stack, 'key-1', first), {}));
  expect(one.status).toBe('completed');
  expect(one.summary).toMatchObject({ upserted: 200, created: 200 });
  expect(stack.sim.admin.getContact(account.portalId, first[0].email)?.properties.loyalty_id).toBe('L-0');

  // Half the members changed email; one has no loyalty id (cannot be matched: rejected).
  const second = first.map((m, i) => ({
    ...m,
    ...(i % 2 === 0 ? { email: `moved-${i}@example.com` } : {}),
    ...(i === 199 ? { loyaltyId: undefined } : {}),
  }));
  const two = await waitForEnd(stack, await activateWith(stack, destinationId, writeProfiles(stack, 'key-2', second), {}));
  expect(two.status).toBe('completed_with_rejections');
  expect(two.summary).toMatchObject({ created: 0, updated: 100, rejected: 1, rejectedByReason: { MATCH_KEY_MISSING: 1 } });
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(200);
  const moved = stack.sim.admin.getContact(account.portalId, 'moved-0@example.com');
  expect(moved?.properties.loyalty_id).toBe('L-0');
  expect(stack.sim.admin.getContact(account.portalId, first[0].email)).toBeUndefined();

  // The always-on stream matches by the same key: a profile update with yet another email lands on L-1.
  const streamed = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/profiles`,
    payload: { ...profileOf({ ...first[1], email: 'streamed-1@example.com', firstName: 'Streamed' }), timestamp: '2026-06-01T00:00:00Z' },
  });
  expect(streamed.statusCode).toBe(202);
  await waitFor(() => stack.sim.admin.getContact(account.portalId, 'streamed-1@example.com'), {
    timeoutMs: 60_000,
    what: 'streamed contact',
  });
  expect(stack.sim.admin.getContact(account.portalId, 'streamed-1@example.com')?.properties).toMatchObject({
    loyalty_id: 'L-1',
    firstname: 'Streamed',
  });
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(200);
});

test('a non-unique property is refused as match key, on create and on PATCH, with the reason', async () => {
  const account = await accountWithKeys();
  const refused = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: { name: 'By member code', hubspot: { token: account.token, baseUrl: stack.sim.url }, mapping: mappingWith('member_code') },
  });
  expect(refused.statusCode).toBe(422);
  expect(refused.json().error.message).toContain("'member_code' is not unique in HubSpot (hasUniqueValue is false)");

  const created = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: { name: 'By email', hubspot: { token: account.token, baseUrl: stack.sim.url }, mapping: { attributes: DEFAULT_MAPPING } },
  });
  expect(created.statusCode).toBe(201);
  const patched = await stack.request({
    method: 'PATCH',
    url: `/v1/destinations/${created.json<{ id: string }>().id}`,
    payload: { mapping: mappingWith('member_code') },
  });
  expect(patched.statusCode).toBe(422);
  expect(patched.json().error.message).toContain('hasUniqueValue is false');
  const unmapped = await stack.request({
    method: 'PATCH',
    url: `/v1/destinations/${created.json<{ id: string }>().id}`,
    payload: { mapping: { attributes: DEFAULT_MAPPING, matchKey: 'loyalty_id' } },
  });
  expect(unmapped.statusCode).toBe(422);
  expect(unmapped.json().error.message).toContain("no attribute maps to 'loyalty_id'");
});
