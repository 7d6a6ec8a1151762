/** `POST /crm/v3/objects/contacts/search` (https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm). The per-second limit is in rate-limits.test.ts. */
import { startSim, upsertInput, type SimHarness } from './helpers';

const SEARCH = '/crm/v3/objects/contacts/search';
let h: SimHarness;
let api: SimHarness['anon'];
let portalId: number;

beforeAll(async () => {
  h = await startSim({ searchPerSecond: 1000 });
  ({ api, portalId } = h.account());
  const inputs = Array.from({ length: 30 }, (_, i) =>
    upsertInput(`s${i}@example.com`, {
      firstname: i % 2 ? 'Odd' : 'Even',
      lifecyclestage: i < 10 ? 'lead' : 'customer',
      annualrevenue: String(i * 1000),
      company: `Acme Corp ${i}`,
    }),
  );
  expect((await api.post('/crm/v3/objects/contacts/batch/upsert', { inputs })).status).toBe(200);
});
afterAll(() => h.sim.close());

const eq = (propertyName: string, value: string) => ({ filterGroups: [{ filters: [{ propertyName, operator: 'EQ', value }] }] });

test('EQ on email (case-insensitive) returns the default properties and a total', async () => {
  const res = await api.post(SEARCH, eq('email', 'S3@Example.com'));
  expect(res.status).toBe(200);
  expect(res.data.total).toBe(1);
  expect(Object.keys(res.data.results[0].properties).sort()).toEqual([
    'createdate',
    'email',
    'firstname',
    'hs_object_id',
    'lastmodifieddate',
    'lastname',
  ]);
  expect(res.data.results[0].properties.email).toBe('s3@example.com');
  expect(res.data.paging).toBeUndefined();
});

test('IN on email, HAS_PROPERTY / NOT_HAS_PROPERTY, NEQ', async () => {
  const inRes = await api.post(SEARCH, {
    filterGroups: [
      { filters: [{ propertyName: 'email', operator: 'IN', values: ['s1@example.com', 's2@example.com', 'missing@example.com'] }] },
    ],
  });
  expect(inRes.data.total).toBe(2);
  const has = await api.post(SEARCH, {
    filterGroups: [{ filters: [{ propertyName: 'firstname', operator: 'HAS_PROPERTY' }] }],
    limit: 100,
  });
  expect(has.data.total).toBe(30);
  const hasNot = await api.post(SEARCH, { filterGroups: [{ filters: [{ propertyName: 'jobtitle', operator: 'NOT_HAS_PROPERTY' }] }] });
  expect(hasNot.data.total).toBe(30);
  const neq = await api.post(SEARCH, { filterGroups: [{ filters: [{ propertyName: 'lifecyclestage', operator: 'NEQ', value: 'lead' }] }] });
  expect(neq.data.total).toBe(20);
});

test('AND within a group, OR across groups; numeric comparisons; tokens', async () => {
  const and = await api.post(SEARCH, {
    filterGroups: [
      {
        filters: [
          { propertyName: 'lifecyclestage', operator: 'EQ', value: 'lead' },
          { propertyName: 'firstname', operator: 'EQ', value: 'odd' },
        ],
      },
    ],
  });
  expect(and.data.total).toBe(5);
  const or = await api.post(SEARCH, {
    filterGroups: [
      { filters: [{ propertyName: 'email', operator: 'EQ', value: 's0@example.com' }] },
      { filters: [{ propertyName: 'email', operator: 'EQ', value: 's29@example.com' }] },
    ],
  });
  expect(or.data.total).toBe(2);
  const between = await api.post(SEARCH, {
    filterGroups: [
      {
        filters: [
          { propertyName: 'hs_object_id', operator: 'HAS_PROPERTY' },
          { propertyName: 'createdate', operator: 'LTE', value: String(Date.now() + 1000) },
        ],
      },
    ],
  });
  expect(between.data.total).toBe(30);
  const token = await api.post(SEARCH, {
    filterGroups: [{ filters: [{ propertyName: 'company', operator: 'CONTAINS_TOKEN', value: 'acme' }] }],
  });
  expect(token.data.total).toBe(30);
  const wildcard = await api.post(SEARCH, {
    filterGroups: [{ filters: [{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: 's1*' }] }],
  });
  expect(wildcard.data.total).toBe(11);
});

test('query text, sorts, properties and paging with after', async () => {
  const q = await api.post(SEARCH, {
    query: 'odd',
    limit: 5,
    sorts: [{ propertyName: 'email', direction: 'DESCENDING' }],
    properties: ['firstname'],
  });
  expect(q.data.total).toBe(15);
  expect(q.data.results).toHaveLength(5);
  expect(q.data.results[0].properties).toEqual({
    firstname: 'Odd',
    hs_object_id: expect.any(String),
    createdate: expect.any(String),
    lastmodifieddate: expect.any(String),
  });
  expect(q.data.paging).toEqual({ next: { after: '5' } });
  const page2 = await api.post(SEARCH, {
    query: 'odd',
    limit: 5,
    after: q.data.paging.next.after,
    sorts: [{ propertyName: 'email', direction: 'DESCENDING' }],
  });
  expect(page2.data.results[0].id).not.toBe(q.data.results[0].id);
  const ids = new Set([...q.data.results, ...page2.data.results].map((r: { id: string }) => r.id));
  expect(ids.size).toBe(10);
});

test('limit ≤ 200, the 10,000-result cap and filter caps → 400', async () => {
  expect((await api.post(SEARCH, { limit: 200 })).status).toBe(200);
  const tooBig = await api.post(SEARCH, { limit: 201 });
  expect(tooBig.status).toBe(400);
  expect(tooBig.data.category).toBe('VALIDATION_ERROR');
  expect((await api.post(SEARCH, { limit: 100, after: '9950' })).status).toBe(400);
  const groups = Array.from({ length: 6 }, () => ({ filters: [{ propertyName: 'email', operator: 'HAS_PROPERTY' }] }));
  expect((await api.post(SEARCH, { filterGroups: groups })).status).toBe(400);
  const filters = Array.from({ length: 11 }, () => ({ propertyName: 'email', operator: 'HAS_PROPERTY' }));
  expect((await api.post(SEARCH, { filterGroups: [{ filters }] })).status).toBe(400);
  expect((await api.post(SEARCH, { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'LIKE', value: 'x' }] }] })).status).toBe(
    400,
  );
});

test('search index lag hides just-created contacts (eventual consistency)', async () => {
  h.sim.admin.setFaults({ searchIndexLagMs: 60_000 });
  try {
    await api.post('/crm/v3/objects/contacts/batch/upsert', { inputs: [upsertInput('fresh@example.com')] });
    expect((await api.post(SEARCH, eq('email', 'fresh@example.com'))).data.total).toBe(0);
    expect(h.sim.admin.getContact(portalId, 'fresh@example.com')).toBeDefined();
  } finally {
    h.sim.admin.setFaults({});
  }
  expect((await api.post(SEARCH, eq('email', 'fresh@example.com'))).data.total).toBe(1);
});
