/** Properties API (https://developers.hubspot.com/docs/api/crm/properties): seeded defaults, create/update/archive rules, groups. */
import { ISO_RE, startSim, UUID_RE, type SimHarness } from './helpers';

const BASE = '/crm/v3/properties/contacts';
let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());

const custom = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  label: name,
  type: 'string',
  fieldType: 'text',
  groupName: 'contactinformation',
  ...extra,
});

describe('seeded default contact properties', () => {
  let byName: Record<string, Record<string, unknown>>;
  beforeAll(async () => {
    const { api } = h.account();
    const res = await api.get(BASE);
    expect(res.status).toBe(200);
    byName = Object.fromEntries(res.data.results.map((p: { name: string }) => [p.name, p]));
  });

  test.each([
    ['email', 'string', 'text'],
    ['firstname', 'string', 'text'],
    ['lastname', 'string', 'text'],
    ['phone', 'string', 'phonenumber'],
    ['mobilephone', 'string', 'phonenumber'],
    ['company', 'string', 'text'],
    ['jobtitle', 'string', 'text'],
    ['website', 'string', 'text'],
    ['address', 'string', 'text'],
    ['city', 'string', 'text'],
    ['state', 'string', 'text'],
    ['zip', 'string', 'text'],
    ['country', 'string', 'text'],
    ['industry', 'string', 'text'],
    ['annualrevenue', 'string', 'text'],
    ['numemployees', 'enumeration', 'select'],
    ['lifecyclestage', 'enumeration', 'radio'],
    ['hs_lead_status', 'enumeration', 'radio'],
    ['hubspot_owner_id', 'enumeration', 'select'],
    ['hs_additional_emails', 'enumeration', 'checkbox'],
    ['date_of_birth', 'date', 'date'],
    ['hs_object_id', 'number', 'number'],
    ['createdate', 'datetime', 'date'],
    ['lastmodifieddate', 'datetime', 'date'],
  ])('%s is %s/%s', (name, type, fieldType) => {
    expect(byName[name]).toMatchObject({ name, type, fieldType, hubspotDefined: true, archived: false });
  });

  test('read-only values are flagged in modificationMetadata', () => {
    for (const name of ['hs_object_id', 'createdate', 'lastmodifieddate']) {
      expect(byName[name].modificationMetadata).toEqual({ archivable: false, readOnlyDefinition: true, readOnlyValue: true });
    }
    expect(byName.email.modificationMetadata).toEqual({ archivable: false, readOnlyDefinition: false, readOnlyValue: false });
  });

  test('lifecyclestage options are the internal stage values; the owner property uses external options', () => {
    expect((byName.lifecyclestage.options as { value: string }[]).map((o) => o.value)).toEqual([
      'subscriber',
      'lead',
      'marketingqualifiedlead',
      'salesqualifiedlead',
      'opportunity',
      'customer',
      'evangelist',
      'other',
    ]);
    expect(byName.hubspot_owner_id).toMatchObject({ externalOptions: true, options: [], referencedObjectType: 'OWNER' });
  });

  test('the Property shape carries every required field', () => {
    expect(byName.firstname).toEqual(
      expect.objectContaining({
        name: 'firstname',
        label: 'First Name',
        description: '',
        groupName: 'contactinformation',
        options: [],
        displayOrder: expect.any(Number),
        calculated: false,
        externalOptions: false,
        hasUniqueValue: false,
        hidden: false,
        formField: true,
        dataSensitivity: 'non_sensitive',
        createdAt: expect.stringMatching(ISO_RE),
        updatedAt: expect.stringMatching(ISO_RE),
      }),
    );
  });
});

describe('create', () => {
  test('201 with the full Property; then GET by name', async () => {
    const { api } = h.account();
    const res = await api.post(
      BASE,
      custom('favourite_colour', {
        label: 'Favourite colour',
        type: 'enumeration',
        fieldType: 'select',
        description: 'd',
        options: [
          { label: 'Red', value: 'red', hidden: false },
          { label: 'Blue', value: 'blue', hidden: false, displayOrder: 5 },
        ],
      }),
    );
    expect(res.status).toBe(201);
    expect(res.data).toMatchObject({
      name: 'favourite_colour',
      label: 'Favourite colour',
      type: 'enumeration',
      fieldType: 'select',
      description: 'd',
      groupName: 'contactinformation',
      options: [
        { label: 'Red', value: 'red', hidden: false, displayOrder: 0 },
        { label: 'Blue', value: 'blue', hidden: false, displayOrder: 5 },
      ],
      archived: false,
      hasUniqueValue: false,
      modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
    });
    expect(res.data.hubspotDefined).toBeUndefined();
    const got = await api.get(`${BASE}/favourite_colour`);
    expect(got.status).toBe(200);
    expect(got.data).toEqual(res.data);
  });

  test('existing name → 409 OBJECT_ALREADY_EXISTS (custom and default)', async () => {
    const { api } = h.account();
    expect((await api.post(BASE, custom('dup_prop'))).status).toBe(201);
    for (const name of ['dup_prop', 'email']) {
      const res = await api.post(BASE, custom(name));
      expect(res.status).toBe(409);
      expect(res.data).toEqual({
        status: 'error',
        message: `A property named '${name}' already exists.`,
        correlationId: expect.stringMatching(UUID_RE),
        subCategory: 'Properties.PROPERTY_WITH_NAME_EXISTS',
        context: { propertyName: [name] },
        category: 'OBJECT_ALREADY_EXISTS',
      });
    }
  });

  test.each([
    ['uppercase', 'BadName'],
    ['leading digit', '1abc'],
    ['leading underscore', '_abc'],
    ['hyphen', 'a-b'],
    ['too long', `a${'b'.repeat(100)}`],
  ])('invalid internal name (%s) → 400', async (_l, name) => {
    const { api } = h.account();
    const res = await api.post(BASE, custom(name));
    expect(res.status).toBe(400);
    expect(res.data).toMatchObject({ category: 'VALIDATION_ERROR', message: expect.stringContaining('invalid') });
  });

  test('a 100-character name is fine', async () => {
    const { api } = h.account();
    expect((await api.post(BASE, custom(`a${'b'.repeat(99)}`))).status).toBe(201);
  });

  test.each([
    ['string', 'select'],
    ['bool', 'text'],
    ['date', 'text'],
    ['datetime', 'number'],
    ['number', 'text'],
    ['enumeration', 'text'],
    ['phone_number', 'text'],
  ])('invalid type/fieldType pair %s/%s → 400', async (type, fieldType) => {
    const { api } = h.account();
    const res = await api.post(BASE, custom('pair_test', { type, fieldType, options: [{ label: 'a', value: 'a', hidden: false }] }));
    expect(res.status).toBe(400);
    expect(res.data.category).toBe('VALIDATION_ERROR');
  });

  test.each([
    ['bool', 'booleancheckbox'],
    ['enumeration', 'checkbox'],
    ['enumeration', 'radio'],
    ['enumeration', 'booleancheckbox'],
    ['date', 'date'],
    ['datetime', 'date'],
    ['string', 'textarea'],
    ['string', 'phonenumber'],
    ['number', 'number'],
    ['phone_number', 'phonenumber'],
  ])('valid pair %s/%s → 201', async (type, fieldType) => {
    const { api } = h.account();
    const options =
      type === 'bool'
        ? [
            { label: 'Yes', value: 'true', hidden: false },
            { label: 'No', value: 'false', hidden: false },
          ]
        : [{ label: 'a', value: 'a', hidden: false }];
    const res = await api.post(BASE, custom('pair_ok', { type, fieldType, options }));
    expect(res.status).toBe(201);
  });

  test('missing fields, unknown type, enumeration without options, unknown group, duplicate option values → 400', async () => {
    const { api } = h.account();
    const missing = await api.post(BASE, { name: 'x_missing' });
    expect(missing.status).toBe(400);
    expect(missing.data.message).toContain('[label, type, fieldType, groupName]');
    expect((await api.post(BASE, custom('x_type', { type: 'text' }))).status).toBe(400);
    expect((await api.post(BASE, custom('x_enum', { type: 'enumeration', fieldType: 'select' }))).status).toBe(400);
    expect((await api.post(BASE, custom('x_group', { groupName: 'nosuchgroup' }))).status).toBe(400);
    const dupOpts = await api.post(
      BASE,
      custom('x_dup', {
        type: 'enumeration',
        fieldType: 'select',
        options: [
          { label: 'a', value: 'a', hidden: false },
          { label: 'b', value: 'a', hidden: false },
        ],
      }),
    );
    expect(dupOpts.status).toBe(400);
  });
});

describe('update and archive', () => {
  test('PATCH changes label and adds options; the new option becomes writable', async () => {
    const { api } = h.account();
    await api.post(
      BASE,
      custom('plan', { type: 'enumeration', fieldType: 'select', options: [{ label: 'Free', value: 'free', hidden: false }] }),
    );
    const before = await api.post('/crm/v3/objects/contacts', { properties: { plan: 'paid' } });
    expect(before.status).toBe(400);
    const res = await api.patch(`${BASE}/plan`, {
      label: 'Plan',
      options: [
        { label: 'Free', value: 'free', hidden: false },
        { label: 'Paid', value: 'paid', hidden: false },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ name: 'plan', label: 'Plan', options: [{ value: 'free' }, { value: 'paid' }] });
    expect((await api.post('/crm/v3/objects/contacts', { properties: { plan: 'paid' } })).status).toBe(201);
  });

  test("PATCH of a read-only definition, or of a default property's type → 400; unknown → 404", async () => {
    const { api } = h.account();
    expect((await api.patch(`${BASE}/hs_object_id`, { label: 'x' })).status).toBe(400);
    expect((await api.patch(`${BASE}/firstname`, { type: 'number', fieldType: 'number' })).status).toBe(400);
    expect((await api.patch(`${BASE}/firstname`, { label: 'Given name' })).status).toBe(200);
    const missing = await api.patch(`${BASE}/nope_prop`, { label: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.data.category).toBe('OBJECT_NOT_FOUND');
  });

  test('DELETE archives: listed with archived=true only; default properties cannot be archived', async () => {
    const { api } = h.account();
    await api.post(BASE, custom('old_prop'));
    expect((await api.delete(`${BASE}/old_prop`)).status).toBe(204);
    expect((await api.get(`${BASE}/old_prop`)).status).toBe(404);
    const archived = await api.get(`${BASE}/old_prop?archived=true`);
    expect(archived.status).toBe(200);
    expect(archived.data).toMatchObject({ archived: true, archivedAt: expect.stringMatching(ISO_RE) });
    const live = (await api.get(BASE)).data.results.map((p: { name: string }) => p.name);
    const gone = (await api.get(`${BASE}?archived=true`)).data.results.map((p: { name: string }) => p.name);
    expect(live).not.toContain('old_prop');
    expect(gone).toEqual(['old_prop']);
    expect((await api.delete(`${BASE}/email`)).status).toBe(400);
    expect((await api.delete(`${BASE}/never_existed`)).status).toBe(404);
  });

  test('recreating an archived name restores it with the new definition', async () => {
    const { api } = h.account();
    const first = await api.post(BASE, custom('phoenix'));
    await api.delete(`${BASE}/phoenix`);
    const again = await api.post(BASE, custom('phoenix', { label: 'Reborn' }));
    expect(again.status).toBe(201);
    expect(again.data).toMatchObject({ name: 'phoenix', label: 'Reborn', archived: false, createdAt: first.data.createdAt });
    expect(again.data.archivedAt).toBeUndefined();
  });

  test('properties are per portal', async () => {
    const a = h.account();
    const b = h.account();
    await a.api.post(BASE, custom('only_in_a'));
    expect((await b.api.get(`${BASE}/only_in_a`)).status).toBe(404);
    expect(h.sim.admin.listProperties(a.portalId).some((p) => p.name === 'only_in_a')).toBe(true);
  });

  test('unknown object type → 400', async () => {
    const { api } = h.account();
    const res = await api.get('/crm/v3/properties/widgets');
    expect(res.status).toBe(400);
    expect(res.data.message).toBe('Unable to infer object type from: widgets');
    expect((await api.get('/crm/v3/properties/0-1')).status).toBe(200);
  });
});

describe('groups', () => {
  test('list includes contactinformation; create 201; existing → 409; get by name', async () => {
    const { api } = h.account();
    const list = await api.get(`${BASE}/groups`);
    expect(list.status).toBe(200);
    expect(list.data.results).toContainEqual({
      name: 'contactinformation',
      label: 'Contact information',
      displayOrder: 0,
      archived: false,
    });
    const created = await api.post(`${BASE}/groups`, { name: 'mypropertygroup', label: 'My Property Group', displayOrder: -1 });
    expect(created.status).toBe(201);
    expect(created.data).toEqual({ name: 'mypropertygroup', label: 'My Property Group', displayOrder: -1, archived: false });
    const dup = await api.post(`${BASE}/groups`, { name: 'mypropertygroup', label: 'Again' });
    expect(dup.status).toBe(409);
    expect(dup.data.category).toBe('OBJECT_ALREADY_EXISTS');
    expect((await api.get(`${BASE}/groups/mypropertygroup`)).data.label).toBe('My Property Group');
    expect((await api.get(`${BASE}/groups/nope`)).status).toBe(404);
    expect((await api.post(BASE, custom('in_new_group', { groupName: 'mypropertygroup' }))).status).toBe(201);
  });
});
