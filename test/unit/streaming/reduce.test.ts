import { prepareRecord } from '../../../src/mapping/prepare';
import { reduceProfile, toXdmProfile } from '../../../src/streaming/reduce';

const mapping = {
  attributes: [
    { source: 'person.name.firstName', target: 'firstname' },
    { source: 'workAddress.city', target: 'city' },
    { source: 'identityMap.Email', target: 'email' },
  ],
};

const profile = {
  identityMap: { Email: [{ id: 'other@example.com' }, { id: ' Ana@Example.COM ', primary: true }] },
  person: { name: { firstName: 'Ana', lastName: 'Silva' } },
  workAddress: { city: 'Lisbon' },
  homeAddress: { city: 'Porto' },
  segmentMembership: {
    ups: {
      A: { status: 'realized', lastQualificationTime: '2024-05-01T10:00:00Z' },
      B: { status: 'exited', lastQualificationTime: '2024-05-02T10:00:00Z' },
    },
    other: { A: { status: 'exited' }, C: {} },
  },
};

describe('reduceProfile', () => {
  test('keeps email, time, statuses and mapped values only', () => {
    const u = reduceProfile(profile, mapping, 42);
    expect(u).toEqual({
      e: 'ana@example.com',
      t: Date.parse('2024-05-02T10:00:00Z'),
      s: { A: 'realized', B: 'exited', C: null },
      v: { 'person.name.firstName': 'Ana', 'workAddress.city': 'Lisbon' },
    });
  });

  test('timestamp wins over lastQualificationTime; no time at all → receipt time', () => {
    expect(reduceProfile({ ...profile, timestamp: '2025-01-01T00:00:00.000Z' }, mapping, 42).t).toBe(
      Date.parse('2025-01-01T00:00:00.000Z'),
    );
    expect(reduceProfile({ identityMap: { Email: [{ id: 'a@b.co' }] } }, mapping, 42).t).toBe(42);
  });

  test('missing and invalid emails are flagged', () => {
    expect(reduceProfile({ person: {} }, mapping, 1)).toMatchObject({ x: 'MISSING_EMAIL' });
    expect(reduceProfile({ identityMap: { Email: [{ id: 'not-an-email' }] } }, mapping, 1)).toMatchObject({
      e: 'not-an-email',
      x: 'INVALID_EMAIL',
    });
  });

  test('toXdmProfile rebuilds a profile that parses back to the same member', () => {
    const u = reduceProfile(profile, mapping, 42);
    const rebuilt = toXdmProfile(u);
    const outcome = prepareRecord(
      { line: 1, format: 'xdm-ndjson', raw: JSON.stringify(rebuilt) },
      {
        audienceId: 'B',
        mapping: { attributes: mapping.attributes.slice(0, 2) },
        audiencePropertyName: 'aud_b',
        properties: new Map([
          ['firstname', { name: 'firstname', type: 'string', fieldType: 'text' }],
          ['city', { name: 'city', type: 'string', fieldType: 'text' }],
        ] as never),
      },
    );
    expect(outcome).toMatchObject({
      kind: 'ready',
      contact: { email: 'ana@example.com', properties: { firstname: 'Ana', city: 'Lisbon', aud_b: 'exited' } },
    });
  });

  test('hostile paths cannot pollute prototypes', () => {
    const rebuilt = toXdmProfile({ e: 'a@b.co', t: 1, s: {}, v: { '__proto__.polluted': 1, 'constructor.prototype.x': 2 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(rebuilt).toBeDefined();
  });
});
