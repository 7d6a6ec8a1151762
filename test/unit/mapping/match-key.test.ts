/** The match key is checked against the live property list: unique (hasUniqueValue), existing, mapped. */
import { checkMapping } from '../../../src/mapping/check-mapping';
import type { HubSpotProperty } from '../../../src/hubspot/types';

const p = (name: string, extra: Partial<HubSpotProperty> = {}): HubSpotProperty => ({
  name,
  label: name,
  type: 'string',
  fieldType: 'text',
  groupName: 'g',
  options: [],
  ...extra,
});
const properties = [p('email'), p('firstname'), p('loyalty_id', { hasUniqueValue: true }), p('member_code')];
const attributes = [
  { source: 'person.name.firstName', target: 'firstname' },
  { source: 'loyalty.id', target: 'loyalty_id' },
  { source: 'loyalty.code', target: 'member_code' },
];

test('email (explicit or implied) and a mapped unique property are accepted', () => {
  expect(checkMapping({ attributes }, properties)).toEqual([]);
  expect(checkMapping({ attributes, matchKey: 'email' }, properties)).toEqual([]);
  expect(checkMapping({ attributes, matchKey: 'loyalty_id' }, properties)).toEqual([]);
});

test('a property HubSpot does not keep unique is refused, saying why', () => {
  const [issue] = checkMapping({ attributes, matchKey: 'member_code' }, properties);
  expect(issue).toMatchObject({ code: 'MATCH_KEY_NOT_UNIQUE', field: 'member_code' });
  expect(issue.message).toContain('hasUniqueValue is false');
});

test('an unknown or unmapped match key is refused', () => {
  expect(checkMapping({ attributes, matchKey: 'nope' }, properties)).toEqual([
    expect.objectContaining({ code: 'UNKNOWN_TARGET', field: 'nope' }),
  ]);
  expect(checkMapping({ attributes: attributes.slice(0, 1), matchKey: 'loyalty_id' }, properties)).toEqual([
    expect.objectContaining({ code: 'MATCH_KEY_UNMAPPED', field: 'loyalty_id' }),
  ]);
});
