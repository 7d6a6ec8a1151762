/**
 * Behaviour HubSpot documents (or that was observed from HubSpot), played by default: burst limit per
 * app and daily limit per account (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines),
 * bool property options, the 409 for an existing property name, `Location` on property create,
 * lifecyclestage only forward (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide),
 * and one INVALID_EMAIL per record.
 */
import { startSim, upsertInput, type SimHarness } from './helpers';

const UPSERT = '/crm/objects/2026-03/contacts/batch/upsert';
const LIST = '/crm/objects/2026-03/contacts';
const PROPS = '/crm/properties/2026-03/contacts';
let now = Date.UTC(2026, 10, 2, 15, 0, 0);
let h: SimHarness;
beforeAll(async () => {
  h = await startSim({ clock: () => now });
});
afterAll(() => h.sim.close());

describe('rate limits: burst per app, daily per account', () => {
  test('two apps of one account each get the full 10-second burst; the daily budget is shared', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setLimits(portalId, { tenSecondly: 3, daily: 8 });
    const second = h.client(h.sim.admin.addToken(portalId).token);
    for (let i = 0; i < 3; i++) expect((await api.get(LIST)).status).toBe(200);
    expect((await api.get(LIST)).status).toBe(429);
    // The other app has its own window, and its headers count its own requests.
    const first = await second.get(LIST);
    expect(first.status).toBe(200);
    expect(first.headers['x-hubspot-ratelimit-remaining']).toBe('2');
    expect(first.headers['x-hubspot-ratelimit-daily-remaining']).toBe('4');
    for (let i = 0; i < 2; i++) expect((await second.get(LIST)).status).toBe(200);
    const limited = await second.get(LIST);
    expect(limited.status).toBe(429);
    expect(limited.data.policyName).toBe('TEN_SECONDLY_ROLLING');
    now += 10_001;
    // 6 of 8 used: two more, from either app, then the account's daily limit answers both.
    expect((await api.get(LIST)).status).toBe(200);
    expect((await second.get(LIST)).status).toBe(200);
    expect((await api.get(LIST)).data.policyName).toBe('DAILY');
    expect((await second.get(LIST)).data.policyName).toBe('DAILY');
    now += 10_001;
  });

  test('a rotated token keeps its app, and so its window', async () => {
    const { portalId, token, api } = h.account();
    h.sim.admin.setLimits(portalId, { tenSecondly: 2 });
    for (let i = 0; i < 2; i++) expect((await api.get(LIST)).status).toBe(200);
    const rotated = h.client(h.sim.admin.rotateToken(portalId, token).token);
    expect((await rotated.get(LIST)).status).toBe(429);
    now += 10_001;
  });

  test('burstScope "account" makes all apps share one window', async () => {
    const { portalId, api } = h.account({ behaviour: { burstScope: 'account' } });
    h.sim.admin.setLimits(portalId, { tenSecondly: 2 });
    const second = h.client(h.sim.admin.addToken(portalId).token);
    expect((await api.get(LIST)).status).toBe(200);
    expect((await second.get(LIST)).status).toBe(200);
    expect((await second.get(LIST)).status).toBe(429);
    expect((await api.get(LIST)).status).toBe(429);
    now += 10_001;
  });
});

describe('properties', () => {
  const bool = (name: string, options?: unknown) => ({
    name,
    label: name,
    type: 'bool',
    fieldType: 'booleancheckbox',
    groupName: 'contactinformation',
    options,
  });
  const yes = { label: 'Yes', value: 'true', hidden: false };
  const no = { label: 'No', value: 'false', hidden: false };

  test('a bool property needs exactly the two options true and false: 400 otherwise', async () => {
    const { api } = h.account();
    for (const options of [
      undefined,
      [],
      [yes],
      [yes, no, { label: 'Maybe', value: 'maybe', hidden: false }],
      [yes, { label: 'N', value: 'no', hidden: false }],
    ]) {
      const res = await api.post(PROPS, bool('flag', options));
      expect(res.status).toBe(400);
      expect(res.data).toMatchObject({
        category: 'VALIDATION_ERROR',
        message: "Boolean properties must have exactly two options; one with a value of 'true', the other with a value of 'false'.",
      });
    }
    const ok = await api.post(PROPS, bool('flag', [no, yes]));
    expect(ok.status).toBe(201);
    expect(ok.data.options.map((o: { value: string }) => o.value)).toEqual(['false', 'true']);
  });

  test('an existing name → 409 with HubSpot message, category and subCategory', async () => {
    const { api } = h.account();
    const prop = { name: 'twice', label: 'Twice', type: 'string', fieldType: 'text', groupName: 'contactinformation' };
    expect((await api.post(PROPS, prop)).status).toBe(201);
    const res = await api.post(PROPS, prop);
    expect(res.status).toBe(409);
    expect(res.data).toMatchObject({
      status: 'error',
      message: "A property named 'twice' already exists.",
      category: 'OBJECT_ALREADY_EXISTS',
      subCategory: 'Properties.PROPERTY_WITH_NAME_EXISTS',
    });
  });

  test('create answers 201 with a Location header naming the new property', async () => {
    const { api } = h.account();
    const res = await api.post('/crm/v3/properties/contacts', {
      name: 'located',
      label: 'L',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${h.sim.url}/crm/v3/properties/contacts/located`);
    expect((await api.get(res.headers.location as string)).data.name).toBe('located');
  });
});

describe('lifecyclestage moves forward only, unless cleared first', () => {
  test('upsert: backward → per-record problem naming the value; forward and clear-then-set work', async () => {
    const { portalId, api } = h.account();
    expect((await api.post(UPSERT, { inputs: [upsertInput('life@example.com', { lifecyclestage: 'customer' })] })).status).toBe(200);
    const back = await api.post(UPSERT, { inputs: [upsertInput('life@example.com', { lifecyclestage: 'lead' })] });
    expect(back.status).toBe(400);
    expect(back.data.errors).toEqual([expect.objectContaining({ code: 'INVALID_OPTION', context: { propertyName: ['lifecyclestage'] } })]);
    expect(back.data.message).toContain('lead');
    expect(h.sim.admin.getContact(portalId, 'life@example.com')?.properties.lifecyclestage).toBe('customer');
    expect((await api.post(UPSERT, { inputs: [upsertInput('life@example.com', { lifecyclestage: 'evangelist' })] })).status).toBe(200);
    expect((await api.post(UPSERT, { inputs: [upsertInput('life@example.com', { lifecyclestage: '' })] })).status).toBe(200);
    expect((await api.post(UPSERT, { inputs: [upsertInput('life@example.com', { lifecyclestage: 'subscriber' })] })).status).toBe(200);
    expect(h.sim.admin.getContact(portalId, 'life@example.com')?.properties.lifecyclestage).toBe('subscriber');
  });

  test('PATCH: backward → 400; a new contact may start at any stage', async () => {
    const { api } = h.account();
    const made = await api.post(LIST, { properties: { email: 'p@example.com', lifecyclestage: 'opportunity' } });
    expect(made.status).toBe(201);
    const res = await api.patch(`${LIST}/${made.data.id}`, { properties: { lifecyclestage: 'lead' } });
    expect(res.status).toBe(400);
    expect(res.data.errors[0].context.propertyName).toEqual(['lifecyclestage']);
  });
});

test('a bad id and a bad properties.email are one INVALID_EMAIL problem, not two', async () => {
  const { api } = h.account();
  const res = await api.post(UPSERT, { inputs: [upsertInput('not-an-email', { email: 'not-an-email' })] });
  expect(res.status).toBe(400);
  expect(res.data.errors).toEqual([
    { message: 'Email address not-an-email is invalid', code: 'INVALID_EMAIL', context: { propertyName: ['email'] } },
  ]);
  expect(JSON.parse((res.data.message as string).replace('Property values were not valid: ', ''))).toHaveLength(1);
});
