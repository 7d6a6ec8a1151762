/**
 * Batch create (201, 207 multi-status with trace ids, 409 at the first existing email without them) and
 * custom unique properties (`hasUniqueValue`) as `idProperty` for batch upsert, read and update; a
 * non-unique property is refused as a key.
 */
import type { AxiosInstance } from 'axios';
import { startSim, type SimHarness } from './helpers';

const BASE = '/crm/v3/objects/contacts';
const PROPS = '/crm/v3/properties/contacts';
let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());

async function uniqueProperty(api: AxiosInstance, name: string, unique = true) {
  const res = await api.post(PROPS, {
    name,
    label: name,
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
    hasUniqueValue: unique,
  });
  expect(res.status).toBe(201);
}

describe('batch create', () => {
  test('201 for new contacts; untraced, an existing email fails the batch with 409 and nothing is created', async () => {
    const { api, portalId } = h.account();
    const ok = await api.post(`${BASE}/batch/create`, {
      inputs: [{ properties: { email: 'a@x.com' } }, { properties: { email: 'b@x.com' } }],
    });
    expect(ok.status).toBe(201);
    expect(ok.data.results).toHaveLength(2);
    const clash = await api.post(`${BASE}/batch/create`, {
      inputs: [{ properties: { email: 'c@x.com' } }, { properties: { email: 'A@x.com' } }],
    });
    expect(clash.status).toBe(409);
    expect(clash.data.category).toBe('CONFLICT');
    expect(h.sim.admin.contactCount(portalId)).toBe(2);
  });

  test('traced: 207 with a per-record CONFLICT, the others created', async () => {
    const { api, portalId } = h.account();
    await api.post(`${BASE}/batch/create`, { inputs: [{ properties: { email: 'a@x.com' } }] });
    const res = await api.post(`${BASE}/batch/create`, {
      inputs: [
        { properties: { email: 'a@x.com' }, objectWriteTraceId: '0' },
        { properties: { email: 'n@x.com' }, objectWriteTraceId: '1' },
        { properties: { email: 'bad', firstname: 'x' }, objectWriteTraceId: '2' },
      ],
    });
    expect(res.status).toBe(207);
    expect(res.data.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ category: 'CONFLICT', context: { objectWriteTraceId: ['0'] } }),
        expect.objectContaining({ category: 'VALIDATION_ERROR', context: { objectWriteTraceId: ['2'] } }),
      ]),
    );
    expect(res.data.results.map((r: { objectWriteTraceId: string }) => r.objectWriteTraceId)).toEqual(['1']);
    expect(h.sim.admin.contactCount(portalId)).toBe(2);
  });
});

describe('unique custom properties', () => {
  test('key a batch upsert, read and update; the value stays unique', async () => {
    const { api, portalId } = h.account();
    await uniqueProperty(api, 'loyalty_id');
    const up = await api.post(`${BASE}/batch/upsert`, {
      inputs: [
        { id: 'L-1', idProperty: 'loyalty_id', properties: { email: 'one@x.com', firstname: 'One' } },
        { id: 'L-2', idProperty: 'loyalty_id', properties: { firstname: 'Two' } },
      ],
    });
    expect(up.status).toBe(200);
    expect(up.data.results.every((r: { new: boolean }) => r.new)).toBe(true);
    const again = await api.post(`${BASE}/batch/upsert`, {
      inputs: [{ id: 'L-1', idProperty: 'loyalty_id', properties: { firstname: 'Uno' } }],
    });
    expect(again.data.results[0]).toMatchObject({ new: false, properties: { loyalty_id: 'L-1', firstname: 'Uno' } });
    expect(h.sim.admin.contactCount(portalId)).toBe(2);

    const read = await api.post(`${BASE}/batch/read`, {
      idProperty: 'loyalty_id',
      inputs: [{ id: 'L-1' }, { id: 'L-9' }],
      properties: ['firstname'],
    });
    expect(read.status).toBe(207);
    expect(read.data.results[0].properties.firstname).toBe('Uno');
    expect(read.data.errors[0].context.ids).toEqual(['L-9']);

    const upd = await api.post(`${BASE}/batch/update`, {
      inputs: [{ id: 'L-2', idProperty: 'loyalty_id', properties: { lastname: 'Deux' } }],
    });
    expect(upd.status).toBe(200);
    // Another contact cannot take a unique value.
    const steal = await api.post(`${BASE}/batch/update`, {
      inputs: [{ id: 'L-2', idProperty: 'loyalty_id', properties: { loyalty_id: 'L-1' } }],
    });
    expect(steal.status).toBe(400);
  });

  test('a non-unique property is refused as a key; email is refused on batch update', async () => {
    const { api } = h.account();
    await uniqueProperty(api, 'member_code', false);
    const up = await api.post(`${BASE}/batch/upsert`, { inputs: [{ id: 'M-1', idProperty: 'member_code', properties: {} }] });
    expect(up.status).toBe(400);
    expect(up.data.message).toContain('non-unique 0-1 property member_code');
    const upd = await api.post(`${BASE}/batch/update`, { inputs: [{ id: 'a@x.com', idProperty: 'email', properties: {} }] });
    expect(upd.status).toBe(400);
  });
});
