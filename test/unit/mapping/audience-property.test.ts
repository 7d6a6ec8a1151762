import {
  AUDIENCE_PROPERTY_GROUP,
  audienceIdFromDescription,
  audiencePropertyDefinition,
  audiencePropertyName,
  classifyExistingAudienceProperty,
} from '../../../src/mapping/audience-property';
import type { HubSpotProperty } from '../../../src/hubspot/types';

const NAME_RE = /^[a-z][a-z0-9_]*$/;
const audience = { id: '2f4c9a1e-7b3d-4e8a-9c51-0d6b2e8f4a17', name: 'High-value customers' };

describe('audiencePropertyName', () => {
  const ids = [
    audience.id,
    'Aud-1',
    'aud_1',
    'aud 1',
    'AUD.1',
    '!!!',
    '',
    'ünïcødé audience',
    '123',
    'x'.repeat(500),
    `${'y'.repeat(200)}a`,
    `${'y'.repeat(200)}b`,
  ];

  it('is a valid HubSpot internal name of at most 100 characters', () => {
    for (const id of ids) {
      const name = audiencePropertyName(id);
      expect(name).toMatch(NAME_RE);
      expect(name.length).toBeLessThanOrEqual(100);
    }
  });

  it('is stable per id and distinct for ids that sanitise alike', () => {
    expect(audiencePropertyName(audience.id)).toBe(audiencePropertyName(audience.id));
    const names = ids.map(audiencePropertyName);
    expect(new Set(names).size).toBe(ids.length);
  });

  it('stays readable for UUIDs', () => {
    expect(audiencePropertyName(audience.id)).toMatch(/^aud_2f4c9a1e_7b3d_4e8a_9c51_0d6b2e8f4a17_[0-9a-f]{8}$/);
  });
});

describe('audiencePropertyDefinition', () => {
  it('is a single-select enumeration in the audience group, labelled with the audience name', () => {
    const def = audiencePropertyDefinition(audience);
    expect(def).toMatchObject({
      name: audiencePropertyName(audience.id),
      label: 'High-value customers',
      type: 'enumeration',
      fieldType: 'select',
      groupName: AUDIENCE_PROPERTY_GROUP.name,
    });
    expect(def.options!.map((o) => [o.value, o.label])).toEqual([
      ['realized', 'Realized'],
      ['existing', 'Existing'],
      ['exited', 'Exited'],
    ]);
    expect(audienceIdFromDescription(def.description)).toBe(audience.id);
  });

  it('records any audience id in the description, even with brackets', () => {
    const def = audiencePropertyDefinition({ id: 'odd]id [x]', name: 'Odd' });
    expect(audienceIdFromDescription(def.description)).toBe('odd]id [x]');
    expect(audienceIdFromDescription('A property a user made')).toBeUndefined();
    expect(audienceIdFromDescription(undefined)).toBeUndefined();
  });

  it('falls back to the id when the name is blank', () => {
    expect(audiencePropertyDefinition({ id: 'a1', name: '  ' }).label).toBe('a1');
  });
});

describe('classifyExistingAudienceProperty', () => {
  const def = audiencePropertyDefinition(audience);
  const existing = (over: Partial<HubSpotProperty> = {}): HubSpotProperty => ({
    name: def.name,
    label: def.label,
    type: 'enumeration',
    fieldType: 'select',
    groupName: def.groupName,
    description: def.description,
    options: def.options!.map((o) => ({ ...o })),
    ...over,
  });

  it('creates a missing or archived property', () => {
    expect(classifyExistingAudienceProperty(undefined, audience)).toEqual({ action: 'create' });
    expect(classifyExistingAudienceProperty(existing({ archived: true }), audience)).toEqual({ action: 'create' });
  });

  it('accepts its own property as is (also restyled as radio buttons)', () => {
    expect(classifyExistingAudienceProperty(existing(), audience)).toEqual({ action: 'ok' });
    expect(classifyExistingAudienceProperty(existing({ fieldType: 'radio' }), audience)).toEqual({ action: 'ok' });
  });

  it('updates the label after a rename, and adds missing options keeping the others', () => {
    expect(classifyExistingAudienceProperty(existing(), { ...audience, name: 'VIPs' })).toEqual({
      action: 'update',
      patch: { label: 'VIPs' },
    });
    const custom = { label: 'Custom', value: 'custom', hidden: false };
    const r = classifyExistingAudienceProperty(existing({ options: [def.options![0], custom] }), audience);
    expect(r.action).toBe('update');
    if (r.action !== 'update') return;
    expect(r.patch.label).toBeUndefined();
    expect(r.patch.options!.map((o) => o.value)).toEqual(['realized', 'custom', 'existing', 'exited']);
  });

  it('reports a wrong type, a user-made property and another audience as conflicts that say what to fix', () => {
    const wrongType = classifyExistingAudienceProperty(existing({ type: 'string', fieldType: 'text' }), audience);
    expect(wrongType).toMatchObject({ action: 'conflict' });
    if (wrongType.action === 'conflict') {
      expect(wrongType.message).toContain(def.name);
      expect(wrongType.message).toContain("'string'");
      expect(wrongType.message).toMatch(/Delete or rename/);
    }
    const checkbox = classifyExistingAudienceProperty(existing({ fieldType: 'checkbox' }), audience);
    expect(checkbox.action).toBe('conflict');

    const userMade = classifyExistingAudienceProperty(existing({ description: 'mine' }), audience);
    expect(userMade).toMatchObject({ action: 'conflict' });
    if (userMade.action === 'conflict') expect(userMade.message).toContain('not created by this destination');

    const other = classifyExistingAudienceProperty(
      existing({ description: audiencePropertyDefinition({ id: 'other', name: 'x' }).description }),
      audience,
    );
    expect(other).toMatchObject({ action: 'conflict' });
    if (other.action === 'conflict') expect(other.message).toContain("another audience ('other')");
  });
});
