/** Single create, get, patch, archive, list paging and batch read (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide, https://developers.hubspot.com/docs/api-reference/error-handling). */
import { expectRateLimitHeaders, ISO_RE, startSim, upsertInput, UUID_RE, type SimHarness } from './helpers';

const BASE = '/crm/v3/objects/contacts';
let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());

describe('single create', () => {
  test('201 SimplePublicObject', async () => {
    const { api } = h.account();
    const res = await api.post(BASE, { properties: { email: 'new@example.com', firstname: 'New' } });
    expect(res.status).toBe(201);
    expectRateLimitHeaders(res);
    expect(res.data).toEqual({
      id: expect.stringMatching(/^\d+$/),
      properties: {
        email: 'new@example.com',
        firstname: 'New',
        hs_object_id: res.data.id,
        createdate: expect.stringMatching(ISO_RE),
        lastmodifieddate: expect.stringMatching(ISO_RE),
      },
      createdAt: expect.stringMatching(ISO_RE),
      updatedAt: expect.stringMatching(ISO_RE),
      archived: false,
    });
  });

  test('existing email (any case, or an additional email) → 409 CONFLICT with the existing id', async () => {
    const { api } = h.account();
    const first = await api.post(BASE, { properties: { email: 'taken@example.com', hs_additional_emails: 'alias@example.com' } });
    for (const email of ['TAKEN@example.com', 'alias@example.com']) {
      const res = await api.post(BASE, { properties: { email } });
      expect(res.status).toBe(409);
      expect(res.data).toEqual({
        status: 'error',
        message: `Contact already exists. Existing ID: ${first.data.id}`,
        correlationId: expect.stringMatching(UUID_RE),
        category: 'CONFLICT',
      });
    }
  });

  test('contacts without email are allowed; invalid values → 400', async () => {
    const { api } = h.account();
    expect((await api.post(BASE, { properties: { firstname: 'No email' } })).status).toBe(201);
    const bad = await api.post(BASE, { properties: { email: 'example.lcom' } });
    expect(bad.status).toBe(400);
    expect(bad.data.errors[0].code).toBe('INVALID_EMAIL');
  });
});

describe('get', () => {
  let api: SimHarness['anon'];
  let id: string;
  beforeAll(async () => {
    ({ api } = h.account());
    const res = await api.post(BASE, { properties: { email: 'get@example.com', firstname: 'Get', lastname: 'Me', city: 'Oslo' } });
    id = res.data.id;
  });

  test('by id returns the default properties, unset ones as null', async () => {
    const res = await api.get(`${BASE}/${id}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.data.properties).sort()).toEqual([
      'createdate',
      'email',
      'firstname',
      'hs_object_id',
      'lastmodifieddate',
      'lastname',
    ]);
    expect(res.data.properties.city).toBeUndefined();
  });

  test('by email with idProperty=email (case-insensitive), with chosen properties', async () => {
    const res = await api.get(`${BASE}/GET@example.com?idProperty=email&properties=city,phone`);
    expect(res.status).toBe(200);
    expect(res.data.id).toBe(id);
    expect(res.data.properties).toEqual({
      city: 'Oslo',
      phone: null,
      hs_object_id: id,
      createdate: expect.any(String),
      lastmodifieddate: expect.any(String),
    });
  });

  test('unknown id or email → 404 OBJECT_NOT_FOUND', async () => {
    for (const path of [`${BASE}/999999`, `${BASE}/nobody@example.com?idProperty=email`, `${BASE}/get@example.com`]) {
      const res = await api.get(path);
      expect(res.status).toBe(404);
      const shown = decodeURIComponent(path.split('/').pop()!.split('?')[0]);
      expect(res.data).toEqual({
        status: 'error',
        message: 'Object not found.  objectId are usually numeric.',
        correlationId: expect.stringMatching(UUID_RE),
        context: { id: [shown] },
        category: 'OBJECT_NOT_FOUND',
      });
      expectRateLimitHeaders(res);
    }
  });
});

describe('patch and archive', () => {
  test('PATCH by id and by email; validation applies', async () => {
    const { api } = h.account();
    const { data } = await api.post(BASE, { properties: { email: 'patch@example.com' } });
    const byId = await api.patch(`${BASE}/${data.id}`, { properties: { firstname: 'Patched' } });
    expect(byId.status).toBe(200);
    expect(byId.data.properties.firstname).toBe('Patched');
    const byEmail = await api.patch(`${BASE}/patch@example.com?idProperty=email`, { properties: { lifecyclestage: 'lead' } });
    expect(byEmail.status).toBe(200);
    expect(byEmail.data.properties).toMatchObject({ firstname: 'Patched', lifecyclestage: 'lead' });
    expect(Date.parse(byEmail.data.updatedAt)).toBeGreaterThanOrEqual(Date.parse(data.updatedAt));
    const bad = await api.patch(`${BASE}/${data.id}`, { properties: { lifecyclestage: 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.data.errors[0].code).toBe('INVALID_OPTION');
    expect((await api.patch(`${BASE}/424242`, { properties: {} })).status).toBe(404);
  });

  test('changing email to one another contact owns → 409', async () => {
    const { api } = h.account();
    const a = await api.post(BASE, { properties: { email: 'a@example.com' } });
    const b = await api.post(BASE, { properties: { email: 'b@example.com' } });
    const res = await api.patch(`${BASE}/${b.data.id}`, { properties: { email: 'a@example.com' } });
    expect(res.status).toBe(409);
    expect(res.data.message).toBe(`Contact already exists. Existing ID: ${a.data.id}`);
  });

  test('DELETE archives (204); the email is free again; archived=true still finds it', async () => {
    const { portalId, api } = h.account();
    const { data } = await api.post(BASE, { properties: { email: 'gone@example.com' } });
    expect((await api.delete(`${BASE}/${data.id}`)).status).toBe(204);
    expect((await api.get(`${BASE}/${data.id}`)).status).toBe(404);
    const archived = await api.get(`${BASE}/${data.id}?archived=true`);
    expect(archived.status).toBe(200);
    expect(archived.data).toMatchObject({ archived: true, archivedAt: expect.stringMatching(ISO_RE) });
    expect(h.sim.admin.contactCount(portalId)).toBe(0);
    const again = await api.post('/crm/v3/objects/contacts/batch/upsert', { inputs: [upsertInput('gone@example.com')] });
    expect(again.data.results[0].new).toBe(true);
  });
});

describe('list and paging', () => {
  let api: SimHarness['anon'];
  beforeAll(async () => {
    ({ api } = h.account());
    await api.post('/crm/v3/objects/contacts/batch/upsert', {
      inputs: Array.from({ length: 25 }, (_, i) => upsertInput(`list${i}@example.com`)),
    });
  });

  test('default limit is 10; paging.next has an opaque after and a link; the last page has no paging', async () => {
    const seen: string[] = [];
    let res = await api.get(BASE);
    expect(res.status).toBe(200);
    expect(res.data.results).toHaveLength(10);
    expect(res.data.paging.next).toEqual({ after: expect.stringMatching(/^[A-Za-z0-9+/=]+$/), link: expect.stringContaining(`${BASE}?`) });
    expect(res.data.paging.next.after).not.toMatch(/^\d+$/);
    seen.push(...res.data.results.map((r: { id: string }) => r.id));
    while (res.data.paging) {
      const link = new URL(res.data.paging.next.link);
      expect(link.searchParams.get('after')).toBe(res.data.paging.next.after);
      res = await api.get(`${link.pathname}${link.search}`);
      expect(res.status).toBe(200);
      seen.push(...res.data.results.map((r: { id: string }) => r.id));
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  test('limit up to 100; above → 400; bad cursor → 400', async () => {
    const res = await api.get(`${BASE}?limit=100&properties=email`);
    expect(res.data.results).toHaveLength(25);
    expect(res.data.paging).toBeUndefined();
    expect(res.data.results[0].properties).toEqual({
      email: expect.any(String),
      hs_object_id: expect.any(String),
      createdate: expect.any(String),
      lastmodifieddate: expect.any(String),
    });
    const over = await api.get(`${BASE}?limit=101`);
    expect(over.status).toBe(400);
    expect(over.data.category).toBe('VALIDATION_ERROR');
    const cursor = await api.get(`${BASE}?after=%%%`);
    expect(cursor.status).toBe(400);
  });
});

describe('batch read', () => {
  let api: SimHarness['anon'];
  let id: string;
  beforeAll(async () => {
    ({ api } = h.account());
    const r = await api.post('/crm/v3/objects/contacts/batch/upsert', {
      inputs: [upsertInput('r1@example.com', { firstname: 'R1' }), upsertInput('r2@example.com')],
    });
    id = r.data.results[0].id;
  });

  test('by email, all found → 200', async () => {
    const res = await api.post(`${BASE}/batch/read`, {
      idProperty: 'email',
      inputs: [{ id: 'R1@example.com' }, { id: 'r2@example.com' }],
      properties: ['firstname'],
      propertiesWithHistory: [],
    });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      status: 'COMPLETE',
      results: expect.any(Array),
      startedAt: expect.stringMatching(ISO_RE),
      completedAt: expect.stringMatching(ISO_RE),
    });
    expect(res.data.results).toHaveLength(2);
    expect(res.data.results.find((r: { properties: { firstname: string } }) => r.properties.firstname === 'R1')).toBeDefined();
  });

  test('some missing → 207 with OBJECT_NOT_FOUND listing the ids', async () => {
    const res = await api.post(`${BASE}/batch/read`, {
      idProperty: 'email',
      inputs: [{ id: 'r1@example.com' }, { id: 'ghost@example.com' }],
      properties: [],
    });
    expect(res.status).toBe(207);
    expect(res.data.results).toHaveLength(1);
    expect(res.data.numErrors).toBe(1);
    expect(res.data.errors).toEqual([
      {
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
        message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
        context: { ids: ['ghost@example.com'] },
        errors: [],
        links: {},
      },
    ]);
  });

  test('by record id; >100 inputs → 400; >50 with propertiesWithHistory → 400', async () => {
    const byId = await api.post(`${BASE}/batch/read`, { inputs: [{ id }], properties: [] });
    expect(byId.status).toBe(200);
    expect(byId.data.results[0].id).toBe(id);
    const many = await api.post(`${BASE}/batch/read`, {
      inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i) })),
      properties: [],
    });
    expect(many.status).toBe(400);
    const history = await api.post(`${BASE}/batch/read`, {
      inputs: Array.from({ length: 51 }, (_, i) => ({ id: String(i) })),
      properties: [],
      propertiesWithHistory: ['firstname'],
    });
    expect(history.status).toBe(400);
    expect(history.data.message).toBe(
      'The maximum number of inputs supported in a batch request for property histories is 50. Please reduce the number of items and try again',
    );
  });
});

test('unknown routes → 404 JSON with a correlation id', async () => {
  const { api } = h.account();
  const res = await api.get('/crm/v3/objects/widgets');
  expect(res.status).toBe(404);
  expect(res.data).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND', correlationId: expect.stringMatching(UUID_RE) });
});

test('requested property names are read as own values only', async () => {
  const { api } = h.account();
  const { data } = await api.post(BASE, { properties: { email: 'proto@example.com' } });
  const res = await api.get(`${BASE}/${data.id}?properties=constructor,__proto__,toString`, { responseType: 'text' });
  expect(res.status).toBe(200);
  // None of them is a contact property: left out of the record, not null (and never read off the prototype).
  for (const name of ['constructor', '__proto__', 'toString']) expect(res.data).not.toContain(`"${name}"`);
  expect(JSON.parse(res.data as string).properties.hs_object_id).toBe(data.id);
});

test('a requested property that does not exist is omitted; a defined one that is unset is null (GET, list, batch read, search)', async () => {
  const { api } = h.account();
  const { data } = await api.post(BASE, { properties: { email: 'omit@example.com' } });
  const one = await api.get(`${BASE}/${data.id}?properties=firstname,no_such_prop`);
  expect(one.data.properties).toHaveProperty('firstname', null);
  expect(one.data.properties).not.toHaveProperty('no_such_prop');
  const list = await api.get(`${BASE}?properties=firstname,no_such_prop`);
  expect(list.data.results[0].properties).toHaveProperty('firstname', null);
  expect(list.data.results[0].properties).not.toHaveProperty('no_such_prop');
  const batch = await api.post(`${BASE}/batch/read`, {
    inputs: [{ id: data.id }],
    properties: ['firstname', 'no_such_prop'],
    propertiesWithHistory: [],
  });
  expect(batch.data.results[0].properties).toHaveProperty('firstname', null);
  expect(batch.data.results[0].properties).not.toHaveProperty('no_such_prop');
  const found = await api.post(`${BASE}/search`, { properties: ['firstname', 'no_such_prop'] });
  expect(found.data.results[0].properties).toHaveProperty('firstname', null);
  expect(found.data.results[0].properties).not.toHaveProperty('no_such_prop');
});
