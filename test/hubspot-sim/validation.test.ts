/** Value validation and normalisation per property type (https://knowledge.hubspot.com/account/property-field-types-in-hubspot, https://developers.hubspot.com/docs/api-reference/error-handling). */
import { startSim, upsertInput, type SimHarness } from './helpers';

const UPSERT = '/crm/v3/objects/contacts/batch/upsert';
let h: SimHarness;
let portalId: number;
let api: SimHarness['anon'];

beforeAll(async () => {
  h = await startSim();
  ({ portalId, api } = h.account());
  const props = [
    { name: 'score', label: 'Score', type: 'number', fieldType: 'number' },
    {
      name: 'vip',
      label: 'VIP',
      type: 'bool',
      fieldType: 'booleancheckbox',
      options: [
        { label: 'Yes', value: 'true', hidden: false },
        { label: 'No', value: 'false', hidden: false },
      ],
    },
    { name: 'renewal', label: 'Renewal', type: 'date', fieldType: 'date' },
    { name: 'last_seen', label: 'Last seen', type: 'datetime', fieldType: 'date' },
    {
      name: 'colours',
      label: 'Colours',
      type: 'enumeration',
      fieldType: 'checkbox',
      options: ['red', 'green', 'blue'].map((v) => ({ label: v, value: v, hidden: false })),
    },
    {
      name: 'tier_pick',
      label: 'Tier',
      type: 'enumeration',
      fieldType: 'select',
      options: ['gold', 'silver'].map((v) => ({ label: v, value: v, hidden: false })),
    },
  ];
  for (const p of props) {
    const r = await api.post('/crm/v3/properties/contacts', { ...p, groupName: 'contactinformation' });
    expect(r.status).toBe(201);
  }
});
afterAll(() => h.sim.close());

let n = 0;
async function write(properties: Record<string, unknown>) {
  const email = `v${n++}@example.com`;
  const res = await api.post(UPSERT, { inputs: [{ ...upsertInput(email), properties }] });
  return { res, stored: h.sim.admin.getContact(portalId, email)?.properties };
}

async function expectInvalid(properties: Record<string, unknown>, code: string, name: string) {
  const { res, stored } = await write(properties);
  expect(res.status).toBe(400);
  expect(res.data.category).toBe('VALIDATION_ERROR');
  expect(res.data.errors).toEqual([{ message: expect.any(String), code, context: { propertyName: [name] } }]);
  const legacy = JSON.parse(res.data.message.replace('Property values were not valid: ', ''));
  expect(legacy).toEqual([
    { isValid: false, message: res.data.errors[0].message, error: code, name, localizedErrorMessage: res.data.errors[0].message, portalId },
  ]);
  expect(stored).toBeUndefined();
}

describe('accepted and normalised', () => {
  test.each([
    ['number integer', { score: '42' }, { score: '42' }],
    ['number decimal and negative', { score: '-3.5' }, { score: '-3.5' }],
    ['number sent as JSON number', { score: 7 }, { score: '7' }],
    ['bool lowercased', { vip: 'TRUE' }, { vip: 'true' }],
    ['bool sent as JSON boolean', { vip: false }, { vip: 'false' }],
    ['date as ISO date', { renewal: '2024-03-15' }, { renewal: '2024-03-15' }],
    ['date as midnight UTC epoch ms', { renewal: String(Date.UTC(2024, 2, 15)) }, { renewal: '2024-03-15' }],
    ['date as midnight ISO datetime', { renewal: '2024-03-15T00:00:00.000Z' }, { renewal: '2024-03-15' }],
    ['datetime ISO with offset', { last_seen: '2024-03-15T10:30:00+02:00' }, { last_seen: '2024-03-15T08:30:00.000Z' }],
    ['datetime epoch ms', { last_seen: '1710498600000' }, { last_seen: '2024-03-15T10:30:00.000Z' }],
    ['select option', { tier_pick: 'gold' }, { tier_pick: 'gold' }],
    ['checkbox multi-select with ;', { colours: 'red;blue' }, { colours: 'red;blue' }],
    ['lifecyclestage internal value', { lifecyclestage: 'marketingqualifiedlead' }, { lifecyclestage: 'marketingqualifiedlead' }],
    ['owner id (externalOptions)', { hubspot_owner_id: '123456' }, { hubspot_owner_id: '123456' }],
    ['string at exactly 65,536 characters', { message: 'x'.repeat(65_536) }, { message: 'x'.repeat(65_536) }],
    ['date_of_birth is a date', { date_of_birth: '1990-07-01' }, { date_of_birth: '1990-07-01' }],
  ])('%s', async (_label, input, expected) => {
    const { res, stored } = await write(input);
    expect(res.status).toBe(200);
    expect(stored).toMatchObject(expected);
  });

  test('email property is lowercased on single create', async () => {
    const res = await api.post('/crm/v3/objects/contacts', { properties: { email: 'Mixed.Case@Example.COM' } });
    expect(res.status).toBe(201);
    expect(res.data.properties.email).toBe('mixed.case@example.com');
  });
});

describe('rejected with HubSpot codes', () => {
  test('unknown property → PROPERTY_DOESNT_EXIST', () => expectInvalid({ description: 'x' }, 'PROPERTY_DOESNT_EXIST', 'description'));
  test('bad email → INVALID_EMAIL', () => expectInvalid({ email: 'example.lcom' }, 'INVALID_EMAIL', 'email'));
  test('bad additional email → INVALID_EMAIL', () =>
    expectInvalid({ hs_additional_emails: 'ok@example.com;nope' }, 'INVALID_EMAIL', 'hs_additional_emails'));
  test('enumeration outside options → INVALID_OPTION', () => expectInvalid({ tier_pick: 'bronze' }, 'INVALID_OPTION', 'tier_pick'));
  test('one bad value in a multi-select → INVALID_OPTION', () => expectInvalid({ colours: 'red;pink' }, 'INVALID_OPTION', 'colours'));
  test('multi-value in a single select → INVALID_OPTION', () => expectInvalid({ tier_pick: 'gold;silver' }, 'INVALID_OPTION', 'tier_pick'));
  test('non-numeric owner id → INVALID_OPTION', () => expectInvalid({ hubspot_owner_id: 'bob' }, 'INVALID_OPTION', 'hubspot_owner_id'));
  test('bad number → INVALID_INTEGER', () => expectInvalid({ score: '12abc' }, 'INVALID_INTEGER', 'score'));
  test('hex is not a number → INVALID_INTEGER', () => expectInvalid({ score: '0x10' }, 'INVALID_INTEGER', 'score'));
  test('bad bool → INVALID_BOOLEAN', () => expectInvalid({ vip: 'yes' }, 'INVALID_BOOLEAN', 'vip'));
  test('bad date → INVALID_DATE', () => expectInvalid({ renewal: '15/03/2024' }, 'INVALID_DATE', 'renewal'));
  test('date not at midnight UTC → INVALID_DATE', () =>
    expectInvalid({ renewal: String(Date.UTC(2024, 2, 15, 10)) }, 'INVALID_DATE', 'renewal'));
  test('bad datetime → INVALID_LONG', () => expectInvalid({ last_seen: 'yesterday' }, 'INVALID_LONG', 'last_seen'));
  test('string over 65,536 characters → INVALID_STRING_LENGTH', () =>
    expectInvalid({ message: 'x'.repeat(65_537) }, 'INVALID_STRING_LENGTH', 'message'));
  test('read-only default → READ_ONLY_VALUE', () =>
    expectInvalid({ lastmodifieddate: '2024-01-01T00:00:00Z' }, 'READ_ONLY_VALUE', 'lastmodifieddate'));
  test('object value → INVALID_PROPERTY_VALUE', () => expectInvalid({ firstname: { a: 1 } }, 'INVALID_PROPERTY_VALUE', 'firstname'));

  test('several problems are all listed', async () => {
    const { res } = await write({ score: 'x', vip: 'maybe', nope: '1' });
    expect(res.status).toBe(400);
    expect(res.data.errors.map((e: { code: string }) => e.code)).toEqual(['INVALID_INTEGER', 'INVALID_BOOLEAN', 'PROPERTY_DOESNT_EXIST']);
  });

  test('archived properties no longer accept values', async () => {
    await api.post('/crm/v3/properties/contacts', {
      name: 'temp_prop',
      label: 'Temp',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
    });
    expect((await write({ temp_prop: 'a' })).res.status).toBe(200);
    await api.delete('/crm/v3/properties/contacts/temp_prop');
    await expectInvalid({ temp_prop: 'a' }, 'PROPERTY_DOESNT_EXIST', 'temp_prop');
  });
});
