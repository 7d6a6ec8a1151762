/** Several audiences in one pass (issue 12): per-audience statuses from XDM and CSV, one upsert per contact. */
import { preparePage } from '../../../src/delivery/process-page';
import type { HubSpotProperty } from '../../../src/hubspot/types';
import { parseRecord } from '../../../src/mapping/parse-record';
import type { SourceRecord } from '../../../src/members/types';

const xdm = (raw: unknown, line = 2): SourceRecord => ({ line, format: 'xdm-ndjson', raw: JSON.stringify(raw) });
const csv = (raw: string, header: string, line = 2): SourceRecord => ({ line, format: 'csv', raw, header });
const m = (status: string) => ({ status, lastQualificationTime: '2024-01-01T00:00:00Z' });

describe('parseRecord with several audiences', () => {
  const profile = {
    identityMap: { Email: [{ id: 'ana@example.com', primary: true }] },
    segmentMembership: { ups: { a: m('realized'), c: m('exited'), z: m('realized') } },
  };

  it('XDM: names the status of every listed audience the profile is a member of', () => {
    expect(parseRecord(xdm(profile), ['a', 'b', 'c'], [])).toMatchObject({
      kind: 'member',
      status: 'realized',
      statuses: { a: 'realized', c: 'exited' },
    });
  });

  it('XDM: a profile in none of the listed audiences is skipped NOT_IN_AUDIENCE', () => {
    expect(parseRecord(xdm(profile), ['b', 'y'], [])).toMatchObject({ kind: 'skipped', reason: { code: 'NOT_IN_AUDIENCE' } });
  });

  it('CSV: a status column per audience; an empty cell is no membership', () => {
    const header = 'email,segmentMembership.ups.a.status,segmentMembership.ups.b.status';
    expect(parseRecord(csv('ana@example.com,existing,', header), ['a', 'b'], [])).toMatchObject({ statuses: { a: 'existing' } });
    expect(parseRecord(csv('ana@example.com,,', header), ['a', 'b'], [])).toMatchObject({
      kind: 'skipped',
      reason: { code: 'NOT_IN_AUDIENCE' },
    });
  });

  it('CSV: a plain status column still serves a one-audience run', () => {
    expect(parseRecord(csv('ana@example.com,exited', 'email,status'), 'a', [])).toMatchObject({ kind: 'member', status: 'exited' });
    expect(parseRecord(csv('ana@example.com,exited', 'email,status'), ['a'], [])).toMatchObject({ statuses: { a: 'exited' } });
  });
});

describe('preparePage with several audiences', () => {
  const properties = new Map<string, HubSpotProperty>();
  it('one contact carries the status property of each of its audiences, and the counts name them', () => {
    const page = preparePage(
      [
        xdm(
          {
            identityMap: { Email: [{ id: 'ana@example.com', primary: true }] },
            segmentMembership: { ups: { a: m('realized'), b: m('existing') } },
          },
          2,
        ),
        xdm({ identityMap: { Email: [{ id: 'bo@example.com', primary: true }] }, segmentMembership: { ups: { b: m('exited') } } }, 3),
        xdm({ identityMap: { Email: [{ id: 'cy@example.com', primary: true }] }, segmentMembership: { ups: { q: m('exited') } } }, 4),
      ],
      {
        audienceId: 'a',
        audiencePropertyName: 'aud_a',
        audiences: [
          { id: 'a', propertyName: 'aud_a' },
          { id: 'b', propertyName: 'aud_b' },
        ],
        mapping: { attributes: [] },
        properties,
      },
    );
    expect(page.ready.map((c) => c.properties)).toEqual([
      { email: 'ana@example.com', aud_a: 'realized', aud_b: 'existing' },
      { email: 'bo@example.com', aud_b: 'exited' },
    ]);
    expect(page.counts.skippedByReason).toEqual({ NOT_IN_AUDIENCE: 1 });
    expect(page.counts.byAudience).toEqual({
      a: { members: 1, byStatus: { realized: 1 } },
      b: { members: 2, byStatus: { existing: 1, exited: 1 } },
    });
  });
});
