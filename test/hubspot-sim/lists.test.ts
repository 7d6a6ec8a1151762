/** The simulator's Lists API (docs/hubspot-simulator.md, "Lists"): names, processing types, memberships, limits, scopes, versions. */
import { MAX_MEMBERSHIP_IDS_PER_CALL } from '../../src/hubspot-sim/state/lists';
import { DEFAULT_SCOPES } from '../../src/hubspot-sim/types';
import { expectRateLimitHeaders, startSim, type SimHarness } from './helpers';

const LISTS = '/crm/v3/lists';
const CONTACTS = '/crm/v3/objects/contacts';
const SCOPES = [...DEFAULT_SCOPES, 'crm.lists.read', 'crm.lists.write'];

let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());

function withLists(tier: 'free' | 'starter' | 'pro' | 'enterprise' = 'pro') {
  return h.account({ tier, scopes: SCOPES });
}

async function contacts(api: ReturnType<typeof withLists>['api'], n: number, prefix = 'm'): Promise<string[]> {
  const inputs = Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}@example.com`, idProperty: 'email', properties: {} }));
  const ids: string[] = [];
  for (let i = 0; i < inputs.length; i += 100) {
    const res = await api.post(`${CONTACTS}/batch/upsert`, { inputs: inputs.slice(i, i + 100) });
    ids.push(...(res.data.results as Array<{ id: string }>).map((r) => r.id));
  }
  return ids.sort((a, b) => Number(a) - Number(b));
}

test('create a MANUAL list, find it by name (any case) and by id', async () => {
  const { api } = withLists();
  const created = await api.post(LISTS, { name: 'Newsletter', objectTypeId: '0-1', processingType: 'MANUAL' });
  expect(created.status).toBe(200);
  expectRateLimitHeaders(created);
  expect(created.data.list).toMatchObject({ name: 'Newsletter', objectTypeId: '0-1', processingType: 'MANUAL', size: 0 });
  const id = created.data.list.listId as string;
  expect(id).toMatch(/^\d+$/);
  expect((await api.get(`${LISTS}/object-type-id/0-1/name/${encodeURIComponent('newsletter')}`)).data.list.listId).toBe(id);
  expect((await api.get(`${LISTS}/${id}`)).data.list.name).toBe('Newsletter');
  expect((await api.get(`${LISTS}/object-type-id/0-1/name/Nope`)).status).toBe(404);
  expect((await api.get(`${LISTS}/999999`)).status).toBe(404);
});

test('names are unique per portal (not across portals); bad bodies are 400', async () => {
  const a = withLists();
  const b = withLists();
  const def = { name: 'VIP', objectTypeId: '0-1', processingType: 'MANUAL' };
  expect((await a.api.post(LISTS, def)).status).toBe(200);
  const again = await a.api.post(LISTS, { ...def, name: 'vip', processingType: 'DYNAMIC' });
  expect(again.status).toBe(409);
  expect(again.data.message).toContain('already exists');
  expect((await b.api.post(LISTS, def)).status).toBe(200);
  expect((await a.api.post(LISTS, { name: 'x', objectTypeId: '0-1' })).status).toBe(400);
  expect((await a.api.post(LISTS, { ...def, name: 'y', processingType: 'WEEKLY' })).status).toBe(400);
});

test('add, remove, add-and-remove: ids that are not contacts come back missing; members are paged by after', async () => {
  const { api } = withLists();
  const ids = await contacts(api, 260);
  const listId = (await api.post(LISTS, { name: 'All', objectTypeId: '0-1', processingType: 'MANUAL' })).data.list.listId;
  const added = await api.put(`${LISTS}/${listId}/memberships/add`, [...ids.slice(0, 250), '424242', 'nope']);
  expect(added.status).toBe(200);
  expect(added.data.recordsIdsAdded).toHaveLength(250);
  expect(added.data.recordIdsMissing.sort()).toEqual(['424242', 'nope']);
  expect(added.data.recordIdsRemoved).toEqual([]);
  // Already members: ignored.
  expect((await api.put(`${LISTS}/${listId}/memberships/add`, ids.slice(0, 10))).data.recordsIdsAdded).toEqual([]);

  const both = await api.put(`${LISTS}/${listId}/memberships/add-and-remove`, {
    recordIdsToAdd: ids.slice(250),
    recordIdsToRemove: ids.slice(0, 5),
  });
  expect(both.data.recordsIdsAdded).toHaveLength(10);
  expect(both.data.recordIdsRemoved).toEqual(ids.slice(0, 5));
  const removed = await api.put(`${LISTS}/${listId}/memberships/remove`, [ids[5], ids[0]]);
  expect(removed.data.recordIdsRemoved).toEqual([ids[5]]);

  const seen: string[] = [];
  let after: string | undefined;
  do {
    const page = await api.get(`${LISTS}/${listId}/memberships`, { params: { limit: 100, ...(after ? { after } : {}) } });
    expect(page.status).toBe(200);
    expect(page.data.total).toBe(254);
    seen.push(...(page.data.results as Array<{ recordId: string }>).map((r) => r.recordId));
    after = page.data.paging?.next?.after;
  } while (after);
  expect(seen).toEqual(ids.slice(6));
  expect((await api.get(`${LISTS}/${listId}`)).data.list.size).toBe(254);
  expect((await api.get(`${LISTS}/${listId}/memberships`, { params: { limit: 251 } })).status).toBe(400);
});

test('DYNAMIC lists refuse membership writes', async () => {
  const { api } = withLists();
  const [id] = await contacts(api, 1);
  const listId = (await api.post(LISTS, { name: 'Active', objectTypeId: '0-1', processingType: 'DYNAMIC' })).data.list.listId;
  const res = await api.put(`${LISTS}/${listId}/memberships/add`, [id]);
  expect(res.status).toBe(400);
  expect(res.data.message).toContain('MANUAL or SNAPSHOT');
  expect((await api.get(`${LISTS}/${listId}/memberships`)).data.results).toEqual([]);
});

test('more record ids than one call may carry → 400, nothing written', async () => {
  const { api } = withLists();
  const [id] = await contacts(api, 1);
  const listId = (await api.post(LISTS, { name: 'Big', objectTypeId: '0-1', processingType: 'MANUAL' })).data.list.listId;
  const many = [id, ...Array.from({ length: MAX_MEMBERSHIP_IDS_PER_CALL }, (_, i) => String(10_000_000 + i))];
  const res = await api.put(`${LISTS}/${listId}/memberships/add`, many);
  expect(res.status).toBe(400);
  expect(res.data.message).toContain(`At most ${MAX_MEMBERSHIP_IDS_PER_CALL}`);
  expect((await api.get(`${LISTS}/${listId}`)).data.list.size).toBe(0);
});

test('the account’s list limit per tier (Starter: 25 static lists)', async () => {
  const { api } = withLists('starter');
  for (let i = 0; i < 25; i++)
    expect((await api.post(LISTS, { name: `L${i}`, objectTypeId: '0-1', processingType: 'MANUAL' })).status).toBe(200);
  const over = await api.post(LISTS, { name: 'L25', objectTypeId: '0-1', processingType: 'MANUAL' });
  expect(over.status).toBe(400);
  expect(over.data.message).toContain('limit of 25');
});

test('scopes: crm.lists.read to read, crm.lists.write to write; the default token has neither', async () => {
  const plain = h.account({ tier: 'pro' });
  const res = await plain.api.post(LISTS, { name: 'X', objectTypeId: '0-1', processingType: 'MANUAL' });
  expect(res.status).toBe(403);
  expect(res.data.category).toBe('MISSING_SCOPES');
  expect(res.data.errors[0].context.requiredScopes).toEqual(['crm.lists.write']);
  const readOnly = h.account({ tier: 'pro', scopes: [...DEFAULT_SCOPES, 'crm.lists.read'] });
  expect((await readOnly.api.get(`${LISTS}/object-type-id/0-1/name/X`)).status).toBe(404);
  expect((await readOnly.api.post(LISTS, { name: 'X', objectTypeId: '0-1', processingType: 'MANUAL' })).status).toBe(403);
  expect((await h.anon.get(`${LISTS}/1`)).status).toBe(401);
});

test('dated paths /crm/lists/<version> serve the same lists', async () => {
  const { api } = withLists();
  const [id] = await contacts(api, 1);
  const created = await api.post('/crm/lists/2026-03', { name: 'Dated', objectTypeId: '0-1', processingType: 'MANUAL' });
  expect(created.status).toBe(200);
  const listId = created.data.list.listId;
  expect((await api.put(`/crm/lists/2026-09/${listId}/memberships/add`, [id])).data.recordsIdsAdded).toEqual([id]);
  expect((await api.get(`${LISTS}/object-type-id/0-1/name/Dated`)).data.list.size).toBe(1);
  expect(h.sim.admin.stats().byVersion['2026-03']).toBeGreaterThan(0);
});

test('archived and merged-away records leave lists; a merge puts the primary in the merged record’s lists', async () => {
  const { api, portalId } = withLists();
  const [a, b, c] = await contacts(api, 3, 'arch');
  const listId = (await api.post(LISTS, { name: 'M', objectTypeId: '0-1', processingType: 'MANUAL' })).data.list.listId;
  await api.put(`${LISTS}/${listId}/memberships/add`, [a, b]);
  expect((await api.delete(`${CONTACTS}/${a}`)).status).toBe(204);
  expect((await api.post(`${CONTACTS}/merge`, { primaryObjectId: c, objectIdToMerge: b })).status).toBe(200);
  expect(h.sim.admin.lists(portalId)[0].members).toEqual([c]);
  const again = await api.put(`${LISTS}/${listId}/memberships/add`, [a, b]);
  expect(again.data.recordIdsMissing.sort()).toEqual([a, b].sort());
});
