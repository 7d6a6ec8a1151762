import { audienceMembership, audienceStatus, getPath, primaryEmail, profileTimestamp } from '../../../src/mapping/xdm';

const AUD = 'aud-1';

describe('getPath', () => {
  const obj = { person: { name: { firstName: 'Ana' } }, list: [{ id: 'x' }, { id: 'y' }], zero: 0, nul: null };
  it.each([
    ['person.name.firstName', 'Ana'],
    ['person.name', { firstName: 'Ana' }],
    ['list.1.id', 'y'],
    ['zero', 0],
    ['nul', null],
    ['person.name.lastName', undefined],
    ['person.name.firstName.length', undefined], // never walks into a string
    ['list.x', undefined],
    ['list.5.id', undefined],
    ['missing.deep.path', undefined],
    ['toString', undefined], // own properties only
  ])('%s', (path, expected) => {
    expect(getPath(obj, path)).toEqual(expected);
  });
});

describe('primaryEmail', () => {
  it('prefers the entry marked primary, wherever it is', () => {
    expect(primaryEmail({ identityMap: { Email: [{ id: 'second@example.org' }, { id: 'main@example.com', primary: true }] } })).toBe(
      'main@example.com',
    );
  });
  it('falls back to the first usable entry', () => {
    expect(primaryEmail({ identityMap: { Email: [{ id: '' }, { id: 42 }, { id: 'first@example.com' }, { id: 'b@example.com' }] } })).toBe(
      'first@example.com',
    );
  });
  it('accepts the namespace in any case', () => {
    expect(primaryEmail({ identityMap: { email: [{ id: 'x@example.com' }] } })).toBe('x@example.com');
  });
  it.each([
    {},
    { identityMap: null },
    { identityMap: { Email: 'x@example.com' } },
    { identityMap: { Email: [] } },
    { identityMap: { ECID: [{ id: '1' }] } },
  ])('is undefined without a usable email (%j)', (profile) => {
    expect(primaryEmail(profile as Record<string, unknown>)).toBeUndefined();
  });
});

describe('audience membership and status', () => {
  const profile = {
    segmentMembership: {
      ups: {
        [AUD]: { status: 'existing', lastQualificationTime: '2024-03-01T00:00:00Z' },
        other: { status: 'exited', lastQualificationTime: '2024-05-01T12:00:00Z' },
      },
      custom: { imported: { status: 'realized' } },
      weird: { odd: { status: 7 } },
    },
  };
  it('reads segmentMembership.ups.<id>.status', () => {
    expect(audienceStatus(profile, AUD)).toBe('existing');
    expect(audienceMembership(profile, AUD)).toMatchObject({ status: 'existing' });
  });
  it('finds audiences under another namespace when ups has none', () => {
    expect(audienceStatus(profile, 'imported')).toBe('realized');
  });
  it('stringifies a non-string status (prepare rejects it) and is undefined when absent', () => {
    expect(audienceStatus(profile, 'odd')).toBe('7');
    expect(audienceStatus(profile, 'nope')).toBeUndefined();
    expect(audienceMembership({ segmentMembership: { ups: { [AUD]: {} } } }, AUD)).toEqual({});
    expect(audienceStatus({ segmentMembership: { ups: { [AUD]: {} } } }, AUD)).toBeUndefined();
  });
});

describe('profileTimestamp', () => {
  it('uses timestamp when valid', () => {
    expect(profileTimestamp({ timestamp: '2024-05-02T09:30:00+02:00' })).toBe('2024-05-02T07:30:00.000Z');
  });
  it('else the latest lastQualificationTime of any membership', () => {
    expect(
      profileTimestamp({
        timestamp: 'not a time',
        segmentMembership: {
          ups: { a: { lastQualificationTime: '2024-03-01T00:00:00Z' }, b: { lastQualificationTime: '2024-05-01T12:00:00Z' } },
          x: { c: { lastQualificationTime: 'bad' } },
        },
      }),
    ).toBe('2024-05-01T12:00:00.000Z');
  });
  it('is undefined when there is nothing to go by', () => {
    expect(profileTimestamp({})).toBeUndefined();
  });
});
