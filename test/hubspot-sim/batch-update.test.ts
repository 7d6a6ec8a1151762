/** Batch update by record id (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide): 200, or 207 naming unknown ids. */
import { startSim, type SimHarness } from './helpers';

const BASE = '/crm/v3/objects/contacts';
let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());

test('updates by id; unknown ids answer 207 with OBJECT_NOT_FOUND and the others are updated', async () => {
  const { api } = h.account();
  const a = await api.post(BASE, { properties: { email: 'a@example.com', firstname: 'A' } });
  const ok = await api.post(`${BASE}/batch/update`, { inputs: [{ id: a.data.id, properties: { firstname: 'Ay' } }] });
  expect(ok.status).toBe(200);
  expect(ok.data.results[0].properties.firstname).toBe('Ay');

  const partial = await api.post(`${BASE}/batch/update`, {
    inputs: [
      { id: a.data.id, properties: { firstname: 'Ah' } },
      { id: '999999999', properties: { firstname: 'Nobody' } },
    ],
  });
  expect(partial.status).toBe(207);
  expect(partial.data.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['999999999'] } });
  expect(partial.data.results).toHaveLength(1);
  expect((await api.get(`${BASE}/${a.data.id}`)).data.properties.firstname).toBe('Ah');
});

test('more than 100 inputs → 400', async () => {
  const { api } = h.account();
  const inputs = Array.from({ length: 101 }, (_, i) => ({ id: String(i + 1), properties: {} }));
  expect((await api.post(`${BASE}/batch/update`, { inputs })).status).toBe(400);
});
