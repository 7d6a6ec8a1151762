/** `POST /crm/v3/objects/contacts/batch/upsert` semantics (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide, docs/hubspot-simulator.md). */
import { expectCorrelationId, expectRateLimitHeaders, ISO_RE, startSim, upsertInput, UUID_RE, type SimHarness } from './helpers';

const UPSERT = '/crm/v3/objects/contacts/batch/upsert';
let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());

test('creates contacts: 200 COMPLETE with new:true, emails lowercased, system properties', async () => {
  const { portalId, api } = h.account();
  const res = await api.post(UPSERT, {
    inputs: [upsertInput('Ada@Example.COM', { firstname: 'Ada' }), upsertInput('grace@example.com', { lastname: 'Hopper' })],
  });
  expect(res.status).toBe(200);
  expectRateLimitHeaders(res);
  expectCorrelationId(res);
  expect(res.data).toEqual({
    status: 'COMPLETE',
    results: expect.any(Array),
    startedAt: expect.stringMatching(ISO_RE),
    completedAt: expect.stringMatching(ISO_RE),
  });
  const ada = res.data.results.find((r: { properties: { email: string } }) => r.properties.email === 'ada@example.com');
  expect(ada).toEqual({
    id: expect.stringMatching(/^\d+$/),
    properties: {
      email: 'ada@example.com',
      firstname: 'Ada',
      hs_object_id: ada.id,
      createdate: expect.stringMatching(ISO_RE),
      lastmodifieddate: expect.stringMatching(ISO_RE),
    },
    createdAt: expect.stringMatching(ISO_RE),
    updatedAt: expect.stringMatching(ISO_RE),
    archived: false,
    new: true,
  });
  expect(res.data.results).toHaveLength(2);
  expect(h.sim.admin.getContact(portalId, 'ADA@example.com')?.properties.firstname).toBe('Ada');
  expect(h.sim.admin.contactCount(portalId)).toBe(2);
});

test('updates match emails case-insensitively: new:false, same id, values merged', async () => {
  const { portalId, api } = h.account();
  const first = await api.post(UPSERT, { inputs: [upsertInput('case@example.com', { firstname: 'One', city: 'Paris' })] });
  const second = await api.post(UPSERT, { inputs: [upsertInput('CASE@Example.com', { firstname: 'Two' })] });
  expect(second.status).toBe(200);
  expect(second.data.results[0]).toMatchObject({
    id: first.data.results[0].id,
    new: false,
    properties: { email: 'case@example.com', firstname: 'Two' },
  });
  const stored = h.sim.admin.getContact(portalId, 'case@example.com');
  expect(stored?.properties).toMatchObject({ firstname: 'Two', city: 'Paris' });
  expect(h.sim.admin.contactCount(portalId)).toBe(1);
});

test('an empty string clears a value', async () => {
  const { portalId, api } = h.account();
  await api.post(UPSERT, { inputs: [upsertInput('clear@example.com', { city: 'Paris' })] });
  await api.post(UPSERT, { inputs: [upsertInput('clear@example.com', { city: '' })] });
  expect(h.sim.admin.getContact(portalId, 'clear@example.com')?.properties.city).toBeUndefined();
});

test('results come back in no particular order', async () => {
  const { api } = h.account();
  const inputs = Array.from({ length: 100 }, (_, i) => upsertInput(`order${i}@example.com`));
  let shuffled = false;
  for (let attempt = 0; attempt < 3 && !shuffled; attempt++) {
    const res = await api.post(UPSERT, { inputs });
    const emails = res.data.results.map((r: { properties: { email: string } }) => r.properties.email);
    expect(new Set(emails)).toEqual(new Set(inputs.map((i) => i.id)));
    shuffled = emails.some((e: string, i: number) => e !== inputs[i].id);
  }
  expect(shuffled).toBe(true);
});

test('100 inputs are accepted; 101 → 400 VALIDATION_ERROR, nothing written', async () => {
  const { portalId, api } = h.account();
  const ok = await api.post(UPSERT, { inputs: Array.from({ length: 100 }, (_, i) => upsertInput(`max${i}@example.com`)) });
  expect(ok.status).toBe(200);
  const res = await api.post(UPSERT, { inputs: Array.from({ length: 101 }, (_, i) => upsertInput(`over${i}@example.com`)) });
  expect(res.status).toBe(400);
  expect(res.data).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR', correlationId: expect.stringMatching(UUID_RE) });
  expect(res.data.message).toContain('101');
  expect(res.data.message).toContain('100');
  expectRateLimitHeaders(res);
  expect(h.sim.admin.contactCount(portalId)).toBe(100);
});

test('duplicate ids (case-insensitive) → 400 for the whole batch, with context.ids', async () => {
  const { portalId, api } = h.account();
  const res = await api.post(UPSERT, {
    inputs: [upsertInput('dup@example.com'), upsertInput('other@example.com'), upsertInput('DUP@example.com')],
  });
  expect(res.status).toBe(400);
  expect(res.data).toEqual({
    status: 'error',
    message: 'Duplicate IDs found in batch input: [dup@example.com]. IDs must be unique',
    correlationId: expect.stringMatching(UUID_RE),
    context: { ids: ['dup@example.com'] },
    category: 'VALIDATION_ERROR',
  });
  expect(h.sim.admin.contactCount(portalId)).toBe(0);
});

test('duplicates are rejected even when every input carries a trace id', async () => {
  const { api } = h.account();
  const res = await api.post(UPSERT, {
    inputs: [upsertInput('d@example.com', {}, { objectWriteTraceId: '1' }), upsertInput('d@example.com', {}, { objectWriteTraceId: '2' })],
  });
  expect(res.status).toBe(400);
  expect(res.data.context).toEqual({ ids: ['d@example.com'] });
});

test('one invalid record without trace ids → 400 for the whole batch, nothing written (HubSpot VALIDATION_ERROR body)', async () => {
  const { portalId, api } = h.account();
  const res = await api.post(UPSERT, {
    inputs: [upsertInput('good@example.com', { firstname: 'Good' }), upsertInput('bad@example.com', { lifecyclestage: 'reports' })],
  });
  expect(res.status).toBe(400);
  const options = '[subscriber, lead, marketingqualifiedlead, salesqualifiedlead, opportunity, customer, evangelist, other]';
  const message = `reports was not one of the allowed options: ${options}`;
  expect(res.data).toEqual({
    status: 'error',
    message: `Property values were not valid: ${JSON.stringify([{ isValid: false, message, error: 'INVALID_OPTION', name: 'lifecyclestage', localizedErrorMessage: message, portalId }])}`,
    correlationId: expect.stringMatching(UUID_RE),
    errors: [{ message, code: 'INVALID_OPTION', context: { propertyName: ['lifecyclestage'] } }],
    category: 'VALIDATION_ERROR',
  });
  expect(h.sim.admin.contactCount(portalId)).toBe(0);
});

test('an invalid email as id → INVALID_EMAIL for the whole batch', async () => {
  const { portalId, api } = h.account();
  const res = await api.post(UPSERT, { inputs: [upsertInput('fine@example.com'), upsertInput('example.lcom')] });
  expect(res.status).toBe(400);
  expect(res.data.errors).toEqual([
    { message: 'Email address example.lcom is invalid', code: 'INVALID_EMAIL', context: { propertyName: ['email'] } },
  ]);
  expect(res.data.message).toContain('"error":"INVALID_EMAIL"');
  expect(h.sim.admin.contactCount(portalId)).toBe(0);
});

test('with a unique objectWriteTraceId on every input → 207, good records written, errors carry the trace id', async () => {
  const { portalId, api } = h.account();
  const res = await api.post(UPSERT, {
    inputs: [
      upsertInput('t1@example.com', { firstname: 'One' }, { objectWriteTraceId: 't1' }),
      upsertInput('invalid-email', {}, { objectWriteTraceId: 't2' }),
      upsertInput('t3@example.com', { nosuchprop: 'x' }, { objectWriteTraceId: 't3' }),
      upsertInput('t4@example.com', { lastname: 'Four' }, { objectWriteTraceId: 't4' }),
    ],
  });
  expect(res.status).toBe(207);
  expect(res.data).toMatchObject({
    status: 'COMPLETE',
    numErrors: 2,
    startedAt: expect.stringMatching(ISO_RE),
    completedAt: expect.stringMatching(ISO_RE),
  });
  expect(res.data.results.map((r: { objectWriteTraceId: string }) => r.objectWriteTraceId).sort()).toEqual(['t1', 't4']);
  const byTrace = Object.fromEntries(
    res.data.errors.map((e: { context: { objectWriteTraceId: string[] } }) => [e.context.objectWriteTraceId[0], e]),
  );
  expect(byTrace.t2).toEqual({
    status: 'error',
    category: 'VALIDATION_ERROR',
    message: expect.stringContaining('Property values were not valid: '),
    context: { objectWriteTraceId: ['t2'] },
    errors: [{ message: 'Email address invalid-email is invalid', code: 'INVALID_EMAIL', context: { propertyName: ['email'] } }],
    links: {},
  });
  expect(byTrace.t3.errors[0]).toEqual({
    message: 'Property "nosuchprop" does not exist',
    code: 'PROPERTY_DOESNT_EXIST',
    context: { propertyName: ['nosuchprop'] },
  });
  expect(h.sim.admin.contactCount(portalId)).toBe(2);
  expect(h.sim.admin.getContact(portalId, 't3@example.com')).toBeUndefined();
});

test('trace ids that are missing on some inputs or repeated do not enable 207', async () => {
  const { portalId, api } = h.account();
  const partial = await api.post(UPSERT, {
    inputs: [upsertInput('p1@example.com', {}, { objectWriteTraceId: 'a' }), upsertInput('bad', {})],
  });
  expect(partial.status).toBe(400);
  const repeated = await api.post(UPSERT, {
    inputs: [upsertInput('p2@example.com', {}, { objectWriteTraceId: 'same' }), upsertInput('bad', {}, { objectWriteTraceId: 'same' })],
  });
  expect(repeated.status).toBe(400);
  expect(h.sim.admin.contactCount(portalId)).toBe(0);
});

test('all-valid traced batch → 200 with objectWriteTraceId echoed on each result', async () => {
  const { api } = h.account();
  const res = await api.post(UPSERT, {
    inputs: [
      upsertInput('x1@example.com', {}, { objectWriteTraceId: '1' }),
      upsertInput('x2@example.com', {}, { objectWriteTraceId: '2' }),
    ],
  });
  expect(res.status).toBe(200);
  expect(res.data.errors).toBeUndefined();
  expect(res.data.results.map((r: { objectWriteTraceId: string }) => r.objectWriteTraceId).sort()).toEqual(['1', '2']);
});

test('idProperty other than email → 400 non-unique property', async () => {
  const { api } = h.account();
  for (const idProperty of ['firstname', 'hs_object_id']) {
    const res = await api.post(UPSERT, { inputs: [{ id: 'x', idProperty, properties: {} }] });
    expect(res.status).toBe(400);
    expect(res.data).toEqual({
      status: 'error',
      message: `Unable to perform update/upsert by non-unique 0-1 property ${idProperty}`,
      correlationId: expect.stringMatching(UUID_RE),
      category: 'VALIDATION_ERROR',
    });
  }
  const omitted = await api.post(UPSERT, { inputs: [{ id: 'a@example.com', properties: {} }] });
  expect(omitted.status).toBe(400);
  expect(omitted.data.message).toBe('Unable to perform update/upsert by non-unique 0-1 property hs_object_id');
});

test('upserting by an hs_additional_emails address resolves to that contact', async () => {
  const { portalId, api } = h.account();
  const created = await api.post(UPSERT, {
    inputs: [upsertInput('primary@example.com', { hs_additional_emails: 'Alias@Example.com;second@example.com' })],
  });
  const id = created.data.results[0].id;
  const res = await api.post(UPSERT, { inputs: [upsertInput('ALIAS@example.com', { firstname: 'Via alias' })] });
  expect(res.status).toBe(200);
  expect(res.data.results[0]).toMatchObject({ id, new: false, properties: { email: 'primary@example.com', firstname: 'Via alias' } });
  expect(h.sim.admin.contactCount(portalId)).toBe(1);
  expect(h.sim.admin.getContact(portalId, 'second@example.com')?.id).toBe(id);
});

test('read-only properties are rejected', async () => {
  const { api } = h.account();
  const res = await api.post(UPSERT, {
    inputs: [upsertInput('ro@example.com', { hs_object_id: '5', createdate: '2024-01-01T00:00:00Z' })],
  });
  expect(res.status).toBe(400);
  expect(res.data.errors).toEqual([
    {
      message: 'Property "hs_object_id" is a read only property; its value cannot be set.',
      code: 'READ_ONLY_VALUE',
      context: { propertyName: ['hs_object_id'] },
    },
    {
      message: 'Property "createdate" is a read only property; its value cannot be set.',
      code: 'READ_ONLY_VALUE',
      context: { propertyName: ['createdate'] },
    },
  ]);
});

test('malformed bodies → 400 VALIDATION_ERROR', async () => {
  const { api } = h.account();
  const notJson = await api.post(UPSERT, '{"inputs": [', { headers: { 'content-type': 'application/json' }, transformRequest: (d) => d });
  expect(notJson.status).toBe(400);
  expect(notJson.data).toMatchObject({
    status: 'error',
    category: 'VALIDATION_ERROR',
    message: expect.stringContaining('Invalid input JSON'),
  });
  const noInputs = await api.post(UPSERT, {});
  expect(noInputs.status).toBe(400);
  expect(noInputs.data.message).toContain('[inputs]');
  const noProperties = await api.post(UPSERT, { inputs: [{ id: 'a@example.com', idProperty: 'email' }] });
  expect(noProperties.status).toBe(400);
  expect(noProperties.data.message).toContain('[properties]');
});

test('empty inputs → 200 with no results', async () => {
  const { api } = h.account();
  const res = await api.post(UPSERT, { inputs: [] });
  expect(res.status).toBe(200);
  expect(res.data.results).toEqual([]);
});

test('the dated 2026-03 path behaves the same', async () => {
  const { api } = h.account();
  const res = await api.post('/crm/objects/2026-03/contacts/batch/upsert', { inputs: [upsertInput('dated@example.com')] });
  expect(res.status).toBe(200);
  expect(res.data.results[0].new).toBe(true);
});
