/**
 * Issue 18 item 9: membership is read from the profile's own keys only. An audience id that names a
 * property of Object.prototype (`__proto__`, `constructor`, `toString`) never makes a non-member a member.
 */
import { parseRecord } from '../../../src/mapping/parse-record';
import { audienceMembership, audienceStatus } from '../../../src/mapping/xdm';

const nonMember = {
  identityMap: { Email: [{ id: 'someone@example.com', primary: true }] },
  segmentMembership: { ups: { 'aud-1': { status: 'realized' } }, other: {} },
};

describe.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])('audience id %s', (id) => {
  test('a profile without that membership is not a member', () => {
    expect(audienceMembership(nonMember, id)).toBeUndefined();
    expect(audienceStatus(nonMember, id)).toBeUndefined();
  });

  test('parsing skips it as NOT_IN_AUDIENCE (it is never marked realized)', () => {
    const r = parseRecord({ line: 1, format: 'xdm-ndjson', raw: JSON.stringify(nonMember) }, id, []);
    expect(r).toMatchObject({ kind: 'skipped', reason: { code: 'NOT_IN_AUDIENCE' } });
  });
});

test('an own "__proto__" membership key (as JSON.parse makes it) is still read as written', () => {
  const profile = JSON.parse('{"segmentMembership":{"ups":{"__proto__":{"status":"exited"}}}}') as Record<string, unknown>;
  expect(audienceStatus(profile, '__proto__')).toBe('exited');
});
