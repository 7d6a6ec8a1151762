/** Contact merges and archives in the simulator (docs/hubspot-simulator.md, "Merges and archives"). */
import { startSim, type SimHarness } from './helpers';

const CONTACTS = '/crm/v3/objects/contacts';
let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());

async function create(api: ReturnType<SimHarness['account']>['api'], email: string, properties: Record<string, string> = {}) {
  const res = await api.post(CONTACTS, { properties: { email, ...properties } });
  expect(res.status).toBe(201);
  return res.data.id as string;
}

test('merge: the primary keeps its id, gains the merged id and email; the merged id stops answering', async () => {
  const { api } = h.account();
  const p = await create(api, 'primary@example.com', { firstname: 'P' });
  const o = await create(api, 'other@example.com', { firstname: 'O', city: 'Lyon' });
  const merged = await api.post(`${CONTACTS}/merge`, { primaryObjectId: p, objectIdToMerge: o });
  expect(merged.status).toBe(200);
  expect(merged.data.id).toBe(p);
  expect(merged.data.properties).toMatchObject({
    email: 'primary@example.com',
    firstname: 'P', // the primary's own values win
    city: 'Lyon', // values it lacked come from the merged record
    hs_merged_object_ids: o,
    hs_additional_emails: 'other@example.com',
  });
  expect((await api.get(`${CONTACTS}/${o}`)).status).toBe(404);
  // Batch read by the merged-away id: the id is reported missing (207), like any unknown id.
  const read = await api.post(`${CONTACTS}/batch/read`, {
    inputs: [{ id: o }, { id: p }],
    properties: ['email'],
    propertiesWithHistory: [],
  });
  expect(read.status).toBe(207);
  expect(read.data.results.map((r: { id: string }) => r.id)).toEqual([p]);
  expect(read.data.errors[0].context.ids).toEqual([o]);
  // By email, the merged record's address finds the primary.
  const byEmail = await api.post(`${CONTACTS}/batch/read`, {
    idProperty: 'email',
    inputs: [{ id: 'other@example.com' }],
    properties: ['email', 'hs_merged_object_ids'],
    propertiesWithHistory: [],
  });
  expect(byEmail.data.results[0]).toMatchObject({ id: p, properties: { hs_merged_object_ids: o } });
});

test('an upsert by an additional email updates the primary and keeps its primary email', async () => {
  const { api } = h.account();
  const p = await create(api, 'keep@example.com');
  const o = await create(api, 'alias@example.com');
  await api.post(`${CONTACTS}/merge`, { primaryObjectId: p, objectIdToMerge: o });
  const up = await api.post(`${CONTACTS}/batch/upsert`, {
    inputs: [{ id: 'alias@example.com', idProperty: 'email', properties: { firstname: 'Via alias' } }],
  });
  expect(up.status).toBe(200);
  expect(up.data.results[0]).toMatchObject({ id: p, new: false, properties: { email: 'keep@example.com' } });
});

test('chained merges: hs_merged_object_ids lists every id merged in', async () => {
  const { api } = h.account();
  const a = await create(api, 'a@example.com');
  const b = await create(api, 'b@example.com');
  const c = await create(api, 'c@example.com');
  await api.post(`${CONTACTS}/merge`, { primaryObjectId: b, objectIdToMerge: a });
  const res = await api.post(`${CONTACTS}/merge`, { primaryObjectId: c, objectIdToMerge: b });
  expect(res.data.properties.hs_merged_object_ids.split(';').sort()).toEqual([a, b].sort());
  expect(res.data.properties.hs_additional_emails.split(';').sort()).toEqual(['a@example.com', 'b@example.com']);
});

test('merge errors: same id → 400, unknown id → 404, no body fields → 400, no write scope → 403', async () => {
  const { api } = h.account();
  const a = await create(api, 'x@example.com');
  expect((await api.post(`${CONTACTS}/merge`, { primaryObjectId: a, objectIdToMerge: a })).status).toBe(400);
  expect((await api.post(`${CONTACTS}/merge`, { primaryObjectId: a, objectIdToMerge: '987654' })).status).toBe(404);
  expect((await api.post(`${CONTACTS}/merge`, { primaryObjectId: a })).status).toBe(400);
  const ro = h.account({ scopes: ['crm.objects.contacts.read'] });
  expect((await ro.api.post(`${CONTACTS}/merge`, { primaryObjectId: '1', objectIdToMerge: '2' })).status).toBe(403);
});

test('archive: an upsert naming an archived contact’s email creates a new contact with a new id', async () => {
  const { api } = h.account();
  const old = await create(api, 'gone@example.com');
  const other = await create(api, 'gone2@example.com');
  expect((await api.post(`${CONTACTS}/batch/archive`, { inputs: [{ id: old }, { id: other }, { id: '55555' }] })).status).toBe(204);
  expect((await api.get(`${CONTACTS}/${old}`)).status).toBe(404);
  expect((await api.get(`${CONTACTS}/${old}`, { params: { archived: true } })).data.archived).toBe(true);
  const up = await api.post(`${CONTACTS}/batch/upsert`, { inputs: [{ id: 'gone@example.com', idProperty: 'email', properties: {} }] });
  expect(up.data.results[0].new).toBe(true);
  expect(up.data.results[0].id).not.toBe(old);
});
