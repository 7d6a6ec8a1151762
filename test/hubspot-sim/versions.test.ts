/**
 * Date-versioned paths next to v3 (HubSpot/HubSpot-public-api-spec-collection, PublicApiSpecs/CRM/Contacts,
 * CRM/Properties and Account/Account Info rollouts 2025-09, 2026-03, 2026-09), the differences their specs
 * show, and stats that say which version each call used.
 */
import { RATE_LIMIT_HEADERS, startSim, upsertInput, type SimHarness } from './helpers';

const DATED = ['2025-09', '2026-03', '2026-09'] as const;
let now = Date.UTC(2026, 10, 2, 15, 0, 0);
let h: SimHarness;
beforeAll(async () => {
  h = await startSim({ clock: () => now });
});
afterAll(() => h.sim.close());

describe.each(DATED)('version %s', (v) => {
  const objects = `/crm/objects/${v}/contacts`;

  test('objects: batch upsert, batch read, search, single CRUD and list on the dated path', async () => {
    const { api } = h.account();
    const up = await api.post(`${objects}/batch/upsert`, { inputs: [upsertInput('ver@example.com', { firstname: 'Ver' })] });
    expect(up.status).toBe(200);
    const id = up.data.results[0].id as string;
    const read = await api.post(`${objects}/batch/read`, {
      inputs: [{ id: 'ver@example.com' }],
      idProperty: 'email',
      properties: ['firstname'],
      propertiesWithHistory: [],
    });
    expect(read.status).toBe(200);
    expect(read.data.results[0].properties.firstname).toBe('Ver');
    expect(
      (
        await api.post(`${objects}/search`, {
          filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'ver@example.com' }] }],
        })
      ).data.total,
    ).toBe(1);
    const created = await api.post(objects, { properties: { email: 'single@example.com' } });
    expect(created.status).toBe(201);
    expect((await api.get(`${objects}/${created.data.id}`)).data.properties.email).toBe('single@example.com');
    expect((await api.patch(`${objects}/${id}`, { properties: { lastname: 'Sion' } })).status).toBe(200);
    expect((await api.get(`${objects}?limit=10`)).data.results).toHaveLength(2);
    expect((await api.delete(`${objects}/${created.data.id}`)).status).toBe(204);
  });

  test('objects: the object type id 0-1 addresses contacts too; another object type is not routed', async () => {
    const { api } = h.account();
    expect((await api.post(`/crm/objects/${v}/0-1/batch/upsert`, { inputs: [upsertInput('type@example.com')] })).status).toBe(200);
    expect((await api.post(`/crm/objects/${v}/deals/batch/upsert`, { inputs: [] })).status).toBe(404);
  });

  test('properties and property groups on /crm/properties/<version>', async () => {
    const { api } = h.account();
    const base = `/crm/properties/${v}/contacts`;
    expect((await api.get(base)).data.results.length).toBeGreaterThan(10);
    const res = await api.post(base, {
      name: 'dated_prop',
      label: 'Dated',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${h.sim.url}${base}/dated_prop`);
    expect((await api.get(`${base}/dated_prop`)).data.name).toBe('dated_prop');
    expect((await api.post(`${base}/groups`, { name: 'dated_group', label: 'Dated group' })).status).toBe(201);
    expect((await api.get(`${base}/groups/dated_group`)).status).toBe(200);
  });

  test('account info: details and daily usage', async () => {
    const { api, portalId } = h.account({ label: 'acme' });
    const details = await api.get(`/account-info/${v}/details`);
    expect(details.status).toBe(200);
    expect(details.data.portalId).toBe(portalId);
    const usage = await api.get(`/account-info/${v}/api-usage/daily/private-apps`);
    expect(usage.data.results[0].name).toBe('private-apps-api-calls-daily');
    if (v === '2026-09') {
      // PortalInformationResponseSeptember2026 adds portalName and createdAt (epoch ms).
      expect(details.data.portalName).toBe('acme');
      expect(details.data.createdAt).toBe(Date.parse(h.sim.admin.getAccount(portalId).createdAt));
    } else {
      expect(details.data).not.toHaveProperty('portalName');
      expect(details.data).not.toHaveProperty('createdAt');
    }
  });
});

test('stats record the version and route of every call: a run on 2026-03 paths shows no /crm/v3/ call', async () => {
  const { api } = h.account();
  h.sim.admin.resetStats();
  await api.get('/crm/properties/2026-03/contacts');
  await api.post('/crm/objects/2026-03/contacts/batch/upsert', { inputs: [upsertInput('stats@example.com')] });
  await api.post('/crm/objects/2026-03/contacts/search', {});
  await api.get('/account-info/2026-03/details');
  let stats = h.sim.admin.stats();
  expect(stats.byVersion).toEqual({ '2026-03': 4 });
  expect(Object.keys(stats.byRoute).filter((k) => k.includes('/crm/v3/'))).toEqual([]);
  expect(stats.byRoute['POST /crm/objects/2026-03/contacts/batch/upsert']).toEqual({ '200': 1 });
  await api.get('/crm/v3/objects/contacts');
  stats = (await h.anon.get('/__sim/stats')).data;
  expect(stats.byVersion).toEqual({ '2026-03': 4, v3: 1 });
  expect(stats.byRoute['GET /crm/v3/objects/contacts']).toEqual({ '200': 1 });
});

describe('differences between versions', () => {
  test.each(['2026-03', '2026-09'])(
    'search on %s is exempt from the ten-second limit (x-hubspot-rate-limit-exemptions); v3 search is not',
    async (v) => {
      const { portalId, api } = h.account();
      h.sim.admin.setLimits(portalId, { tenSecondly: 2, searchPerSecond: 100 });
      for (let i = 0; i < 3; i++) expect((await api.post(`/crm/objects/${v}/contacts/search`, {})).status).toBe(200);
      expect((await api.get(`/crm/objects/${v}/contacts`)).status).toBe(200);
      expect((await api.get(`/crm/objects/${v}/contacts`)).status).toBe(200);
      expect((await api.get(`/crm/objects/${v}/contacts`)).status).toBe(429);
      now += 10_001;
      for (let i = 0; i < 2; i++) expect((await api.post('/crm/v3/objects/contacts/search', {})).status).toBe(200);
      expect((await api.post('/crm/v3/objects/contacts/search', {})).status).toBe(429);
      now += 10_001;
    },
  );

  test('search answers carry no rate-limit headers on any version; other routes do', async () => {
    const { api } = h.account();
    for (const path of [
      '/crm/v3/objects/contacts/search',
      '/crm/objects/2026-03/contacts/search',
      '/crm/objects/2026-09/contacts/search',
    ]) {
      const res = await api.post(path, {});
      expect(res.status).toBe(200);
      for (const name of RATE_LIMIT_HEADERS) expect(res.headers[name]).toBeUndefined();
    }
    expect((await api.get('/crm/objects/2026-09/contacts')).headers['x-hubspot-ratelimit-max']).toMatch(/^\d+$/);
  });

  describe('admin-configured write rules are enforced on 2026-09 writes only', () => {
    const rules = [
      { require: ['lastname'], when: { property: 'lifecyclestage', equals: 'customer' } },
      { require: ['firstname'], onCreateOnly: true },
    ];

    test('conditional required property: 400 "Property values were not valid" on 2026-09, accepted on 2026-03 and v3', async () => {
      const { portalId, api } = h.account({ behaviour: { writeRules: rules } });
      const input = upsertInput('rule@example.com', { firstname: 'R', lifecyclestage: 'customer' });
      const refused = await api.post('/crm/objects/2026-09/contacts/batch/upsert', { inputs: [input] });
      expect(refused.status).toBe(400);
      expect(refused.data.category).toBe('VALIDATION_ERROR');
      expect(refused.data.message).toMatch(/^Property values were not valid: /);
      expect(refused.data.errors).toEqual([
        {
          message: 'Property "lastname" is required when lifecyclestage is customer',
          code: 'REQUIRED_PROPERTY',
          context: { propertyName: ['lastname'] },
        },
      ]);
      expect(h.sim.admin.contactCount(portalId)).toBe(0);
      expect(
        (
          await api.post('/crm/objects/2026-09/contacts/batch/upsert', {
            inputs: [upsertInput('rule@example.com', { firstname: 'R', lastname: 'L', lifecyclestage: 'customer' })],
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await api.post('/crm/objects/2026-03/contacts/batch/upsert', {
            inputs: [upsertInput('old@example.com', { lifecyclestage: 'customer' })],
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await api.post('/crm/v3/objects/contacts/batch/upsert', {
            inputs: [upsertInput('older@example.com', { lifecyclestage: 'customer' })],
          })
        ).status,
      ).toBe(200);
    });

    test('required on create: a new record needs it, an update of an existing one does not', async () => {
      const { api } = h.account({ behaviour: { writeRules: rules } });
      const create = await api.post('/crm/objects/2026-09/contacts', { properties: { email: 'new@example.com' } });
      expect(create.status).toBe(400);
      expect(create.data.errors[0].context.propertyName).toEqual(['firstname']);
      const made = await api.post('/crm/objects/2026-09/contacts', { properties: { email: 'new@example.com', firstname: 'N' } });
      expect(made.status).toBe(201);
      expect((await api.patch(`/crm/objects/2026-09/contacts/${made.data.id}`, { properties: { firstname: '' } })).status).toBe(200);
      const patchBad = await api.patch(`/crm/objects/2026-09/contacts/${made.data.id}`, { properties: { lifecyclestage: 'customer' } });
      expect(patchBad.status).toBe(400);
      expect(patchBad.data.errors[0].context.propertyName).toEqual(['lastname']);
    });

    test('a traced 2026-09 batch answers 207 naming only the record that breaks a rule', async () => {
      const { api } = h.account({ behaviour: { writeRules: [{ require: ['lastname'] }] } });
      const res = await api.post('/crm/objects/2026-09/contacts/batch/upsert', {
        inputs: [
          upsertInput('good@example.com', { lastname: 'G' }, { objectWriteTraceId: 't1' }),
          upsertInput('bad@example.com', {}, { objectWriteTraceId: 't2' }),
        ],
      });
      expect(res.status).toBe(207);
      expect(res.data.results.map((r: { properties: { email: string } }) => r.properties.email)).toEqual(['good@example.com']);
      expect(res.data.errors[0].context.objectWriteTraceId).toEqual(['t2']);
    });
  });
});
