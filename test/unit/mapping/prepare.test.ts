import { audiencePropertyName } from '../../../src/mapping/audience-property';
import { normalizeStatus, prepareContact, prepareRecord } from '../../../src/mapping/prepare';
import type { HubSpotProperty } from '../../../src/hubspot/types';
import type { Mapping, ParsedMember } from '../../../src/mapping/types';

const AUD = 'aud-1';
const P = audiencePropertyName(AUD);
const prop = (name: string, type: HubSpotProperty['type'], extra: Partial<HubSpotProperty> = {}): HubSpotProperty => ({
  name,
  label: name,
  type,
  fieldType: type === 'enumeration' ? 'select' : 'text',
  groupName: 'g',
  options: [],
  ...extra,
});
const properties = new Map(
  [
    prop('email', 'string'),
    prop('firstname', 'string'),
    prop('loyalty_points', 'number'),
    prop('lifecyclestage', 'enumeration', { options: [{ label: 'Lead', value: 'lead' }] }),
  ].map((p) => [p.name, p]),
);
const mapping: Mapping = {
  attributes: [
    { source: 'identityMap.Email', target: 'email' },
    { source: 'person.name.firstName', target: 'firstname' },
    { source: 'loyalty', target: 'loyalty_points' },
    { source: 'stage', target: 'lifecyclestage' },
  ],
};
const ctx = { mapping, properties, audiencePropertyName: P };
const member = (over: Partial<ParsedMember> = {}): ParsedMember => ({
  line: 4,
  email: ' Ana@Example.COM ',
  status: 'Existing',
  values: {},
  ...over,
});

describe('prepareContact', () => {
  it('builds the upsert properties: normalised email, coerced attributes, audience status', () => {
    const r = prepareContact(
      member({ values: { 'person.name.firstName': 'Ana', loyalty: '12.0', stage: 'Lead' }, timestamp: '2024-01-01T00:00:00.000Z' }),
      ctx,
    );
    expect(r).toEqual({
      kind: 'ready',
      contact: {
        line: 4,
        email: 'ana@example.com',
        status: 'existing',
        timestamp: '2024-01-01T00:00:00.000Z',
        properties: { firstname: 'Ana', loyalty_points: '12', lifecyclestage: 'lead', email: 'ana@example.com', [P]: 'existing' },
      },
    });
  });

  it('omits absent and blank attributes (never clears a HubSpot value)', () => {
    const r = prepareContact(member({ values: { 'person.name.firstName': '', loyalty: null } }), ctx);
    expect(r.kind === 'ready' && r.contact.properties).toEqual({ email: 'ana@example.com', [P]: 'existing' });
  });

  it.each([
    [{ email: undefined }, 'MISSING_EMAIL', 'email'],
    [{ email: '   ' }, 'MISSING_EMAIL', 'email'],
    [{ email: 'nope' }, 'INVALID_EMAIL', 'email'],
    [{ status: 'pending' }, 'INVALID_STATUS', 'status'],
    [{ status: '' }, 'INVALID_STATUS', 'status'],
    [{ values: { loyalty: 'many' } }, 'INVALID_NUMBER', 'loyalty_points'],
    [{ values: { stage: 'prospect' } }, 'INVALID_OPTION', 'lifecyclestage'],
    [{ values: { 'person.name.firstName': { a: 1 } } }, 'INVALID_STRING', 'firstname'],
  ])('rejects %p with %s on %s', (over, code, field) => {
    const r = prepareContact(member(over), ctx);
    expect(r).toMatchObject({ kind: 'rejected', line: 4, reason: { code, field, origin: 'validation' } });
  });

  it('rejects on the first failing attribute', () => {
    const r = prepareContact(member({ values: { loyalty: 'x', stage: 'y' } }), ctx);
    expect(r).toMatchObject({ reason: { code: 'INVALID_NUMBER', field: 'loyalty_points' } });
  });

  it('rejects a target that is not in the account', () => {
    const r = prepareContact(member(), { ...ctx, mapping: { attributes: [{ source: 'a', target: 'ghost' }] } });
    expect(r).toMatchObject({ kind: 'rejected', reason: { code: 'PROPERTY_DOESNT_EXIST', field: 'ghost' } });
  });

  it('checks the email against the email property as well', () => {
    const tight = new Map(properties);
    tight.set('email', prop('email', 'enumeration', { options: [] }));
    expect(prepareContact(member(), { ...ctx, properties: tight })).toMatchObject({ kind: 'rejected', reason: { code: 'INVALID_EMAIL' } });
  });

  it('keeps the normalised email on rejections for the rejection store', () => {
    expect(prepareContact(member({ status: 'nope' }), ctx)).toMatchObject({ email: 'ana@example.com' });
  });
});

describe('normalizeStatus', () => {
  it.each([
    [undefined, 'realized'],
    ['REALIZED', 'realized'],
    [' existing ', 'existing'],
    ['Exited', 'exited'],
    ['active', undefined],
  ])('%p → %p', (raw, out) => expect(normalizeStatus(raw)).toBe(out));
});

describe('prepareRecord', () => {
  it('parses and prepares in one step', () => {
    const raw = JSON.stringify({
      identityMap: { Email: [{ id: 'x@example.com' }] },
      segmentMembership: { ups: { [AUD]: { status: 'realized' } } },
    });
    expect(prepareRecord({ line: 1, format: 'xdm-ndjson', raw }, { ...ctx, audienceId: AUD })).toMatchObject({
      kind: 'ready',
      contact: { email: 'x@example.com' },
    });
    expect(prepareRecord({ line: 2, format: 'xdm-ndjson', raw: '{' }, { ...ctx, audienceId: AUD })).toMatchObject({
      kind: 'rejected',
      reason: { code: 'MALFORMED_RECORD' },
    });
  });
});
