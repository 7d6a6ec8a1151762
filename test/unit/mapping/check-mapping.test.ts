import { audiencePropertyDefinition } from '../../../src/mapping/audience-property';
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
const aud = audiencePropertyDefinition({ id: 'aud-9', name: 'Nine' });
const properties = [
  p('email'),
  p('firstname'),
  p('lastname'),
  p('hs_object_id', { type: 'number', modificationMetadata: { readOnlyValue: true } }),
  p('score', { type: 'number', calculated: true }),
  p('gone', { archived: true }),
  { ...p(aud.name), type: 'enumeration' as const, fieldType: 'select', description: aud.description },
];

describe('checkMapping', () => {
  it('accepts a valid mapping (including an explicit identity mapping)', () => {
    expect(
      checkMapping(
        {
          attributes: [
            { source: 'identityMap.Email', target: 'email' },
            { source: 'person.name.firstName', target: 'firstname' },
            { source: '_tenant.loyalty.0.tier', target: 'lastname' },
          ],
        },
        properties,
      ),
    ).toEqual([]);
  });

  it('reports every problem with a code, the field, and what to fix', () => {
    const issues = checkMapping(
      {
        attributes: [
          { source: 'person.favouriteColour', target: 'favourite_colour' },
          { source: 'a', target: 'hs_object_id' },
          { source: 'b', target: 'score' },
          { source: 'c', target: 'firstname' },
          { source: 'd', target: 'firstname' },
          { source: 'person.email', target: 'email' },
          { source: 'e', target: aud.name },
          { source: 'f', target: 'custom_aud' },
          { source: 'g', target: 'gone' },
          { source: '', target: 'lastname' },
          { source: 'a..b', target: 'x1' },
          { source: 'has space', target: 'x2' },
        ],
      },
      properties,
      { audiencePropertyNames: ['custom_aud'] },
    );
    expect(issues.map((i) => [i.code, i.field])).toEqual([
      ['UNKNOWN_TARGET', 'favourite_colour'],
      ['READ_ONLY_TARGET', 'hs_object_id'],
      ['READ_ONLY_TARGET', 'score'],
      ['DUPLICATE_TARGET', 'firstname'],
      ['EMAIL_IS_IDENTITY', 'email'],
      ['AUDIENCE_PROPERTY_TARGET', aud.name],
      ['AUDIENCE_PROPERTY_TARGET', 'custom_aud'],
      ['UNKNOWN_TARGET', 'gone'],
      ['INVALID_SOURCE', ''],
      ['INVALID_SOURCE', 'a..b'],
      ['UNKNOWN_TARGET', 'x1'],
      ['INVALID_SOURCE', 'has space'],
      ['UNKNOWN_TARGET', 'x2'],
    ]);
    expect(issues[0].message).toBe(
      "Mapping attribute 1: property 'favourite_colour' does not exist in this HubSpot account; create it in HubSpot or pick one of GET /v1/destinations/:id/properties",
    );
    expect(issues[4].message).toContain("'email' is the identity");
  });
});
