/**
 * HUBSPOT_API_VERSION and a destination's `hubspot.apiVersion` choose the paths of every call, end to end
 * (API → Temporal → worker → simulator): a full activation on the default 2026-03 makes no /crm/v3/ call,
 * a destination set to v3 makes only legacy calls, and the override can be changed and cleared by PATCH.
 */
import { loadConfig } from '../../src/config';
import { accountingError } from '../../src/delivery/counts';
import { createDestination, startStack, type TestStack } from '../helpers/stack';
import { expectExactContacts, startActivation, waitForEnd, writeMembers } from '../helpers/activation';

jest.setTimeout(300_000);

let stack: TestStack;
beforeAll(async () => {
  // The deployment default (the stack pins v3 for the legacy suites).
  stack = await startStack({ env: { HUBSPOT_API_VERSION: loadConfig({}).hubspot.apiVersion } });
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.sim.admin.resetStats());

const routes = (): string[] => Object.keys(stack.sim.admin.stats().byRoute);

test('the default version is 2026-03; v3 and 2026-09 may be chosen; anything else is refused', () => {
  expect(loadConfig({}).hubspot.apiVersion).toBe('2026-03');
  expect(loadConfig({ HUBSPOT_API_VERSION: 'v3' }).hubspot.apiVersion).toBe('v3');
  expect(loadConfig({ HUBSPOT_API_VERSION: '2026-09' }).hubspot.apiVersion).toBe('2026-09');
  expect(() => loadConfig({ HUBSPOT_API_VERSION: 'v4' })).toThrow(/HUBSPOT_API_VERSION/);
});

async function activate(apiVersion?: string) {
  const { destinationId, portalId } = await createDestination(stack, apiVersion ? { apiVersion } : {});
  const { file, profiles } = writeMembers(stack, `versions-${apiVersion ?? 'default'}`, 600);
  const done = await waitForEnd(stack, await startActivation(stack, destinationId, { path: file }));
  expect(done.status).toBe('completed');
  expect(accountingError(done.summary)).toBeUndefined();
  expectExactContacts(stack, portalId, profiles);
  return { destinationId };
}

test('a full activation on the default 2026-03 paths: no /crm/v3/ call', async () => {
  await activate();
  const stats = stack.sim.admin.stats();
  expect(routes().filter((r) => r.includes('/v3/'))).toEqual([]);
  // The simulator files the one unversioned route (token introspection) under v3: every other call is 2026-03.
  const tokenInfo = Object.values(stats.byRoute['POST /oauth/v2/private-apps/get/access-token-info'] ?? {}).reduce((a, b) => a + b, 0);
  expect(stats.byVersion.v3 ?? 0).toBe(tokenInfo);
  expect(stats.byVersion['2026-03']).toBeGreaterThan(0);
  expect(Object.keys(stats.byVersion).sort()).toEqual(tokenInfo ? ['2026-03', 'v3'] : ['2026-03']);
  expect(stats.byRoute['POST /crm/objects/2026-03/contacts/batch/upsert']).toBeDefined();
  expect(stats.byRoute['GET /crm/properties/2026-03/:objectType']).toBeDefined();
  // Token introspection has no dated form and stays on its documented path.
  expect(routes()).toContain('POST /oauth/v2/private-apps/get/access-token-info');
});

test('a destination set to v3 runs a full activation on the legacy paths only', async () => {
  const { destinationId } = await activate('v3');
  expect(Object.keys(stack.sim.admin.stats().byVersion)).toEqual(['v3']);
  expect(routes()).toContain('POST /crm/v3/objects/contacts/batch/upsert');
  const view = (await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}` })).json();
  expect(view.apiVersion).toBe('v3');
});

test('PATCH changes the override and null clears it', async () => {
  const { destinationId } = await createDestination(stack, { apiVersion: 'v3' });
  const patched = await stack.request({
    method: 'PATCH',
    url: `/v1/destinations/${destinationId}`,
    payload: { hubspot: { apiVersion: '2026-09' } },
  });
  expect(patched.statusCode).toBe(200);
  expect(patched.json().apiVersion).toBe('2026-09');
  expect(stack.sim.admin.stats().byVersion['2026-09']).toBeGreaterThan(0);
  const cleared = await stack.request({
    method: 'PATCH',
    url: `/v1/destinations/${destinationId}`,
    payload: { hubspot: { apiVersion: null } },
  });
  expect(cleared.statusCode).toBe(200);
  expect(cleared.json().apiVersion).toBeUndefined();
  const bad = await stack.request({
    method: 'PATCH',
    url: `/v1/destinations/${destinationId}`,
    payload: { hubspot: { apiVersion: '2024-01' } },
  });
  expect(bad.statusCode).toBe(400);
});

test('on 2026-03, all-or-nothing, no echoed trace ids and empty answers: the activation accounts for every member', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  stack.sim.admin.setBehaviour(portalId, { upsertPartial: 'all-or-nothing', echoTraceIds: false });
  const { file } = writeMembers(stack, 'versions-open-answers', 400);
  stack.sim.admin.setFaults({ emptyResultsBurst: 3 });
  try {
    const done = await waitForEnd(stack, await startActivation(stack, destinationId, { path: file }));
    const s = done.summary;
    expect(accountingError(s)).toBeUndefined();
    expect(s.received).toBe(s.upserted + s.rejected + s.skipped);
    // What is counted as upserted is in HubSpot; what was never confirmed is rejected as such.
    expect(stack.sim.admin.contactCount(portalId)).toBe(s.upserted);
    expect(s.rejectedByReason.HUBSPOT_UNCONFIRMED ?? 0).toBe(s.rejected);
    expect(Object.keys(s.rejectedByReason).filter((k) => k !== 'HUBSPOT_UNCONFIRMED')).toEqual([]);
    expect(routes().filter((r) => r.includes('/crm/v3/'))).toEqual([]);
  } finally {
    stack.sim.admin.clearFaults();
  }
});
