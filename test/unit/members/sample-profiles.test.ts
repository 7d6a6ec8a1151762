import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isValidEmail } from '../../../src/mapping/email';
import { isParsedMember, parseRecord } from '../../../src/mapping/parse-record';
import { normalizeStatus } from '../../../src/mapping/prepare';
import { primaryEmail } from '../../../src/mapping/xdm';
import {
  SAMPLE_AUDIENCES,
  SAMPLE_CSV_COLUMNS,
  createPrng,
  generateProfileObjects,
  generateProfiles,
  isoTime,
  profileCsvRow,
  profileToJson,
} from '../../../src/members/sample-profiles';

const SYNTHETIC = /@(example\.(com|org|net)|mail\.test)$/;

describe('sample profiles', () => {
  it('are deterministic per seed', () => {
    const a = [...generateProfiles({ count: 200, seed: 7 })];
    expect([...generateProfiles({ count: 200, seed: 7 })]).toEqual(a);
    expect([...generateProfiles({ count: 200, seed: 8 })]).not.toEqual(a);
    expect(createPrng(1)()).toBe(createPrng(1)());
  });

  it('serialise exactly as JSON.stringify would', () => {
    for (const p of generateProfileObjects({ count: 2000, seed: 3 })) expect(profileToJson(p)).toBe(JSON.stringify(p));
    for (const t of [0, 1, 999, 86_399_999, 1714557600123, Date.UTC(2024, 1, 29, 23, 59, 59, 999)])
      expect(isoTime(t)).toBe(new Date(t).toISOString());
  });

  it('look like AEP profiles: synthetic primary emails, three audiences, mixed statuses', () => {
    const statuses = new Map<string, number>();
    const audiences = new Set<string>();
    const emails = new Set<string>();
    let secondary = 0;
    let secondaryFirst = 0;
    for (const line of generateProfiles({ count: 1500, seed: 42 })) {
      const profile = JSON.parse(line) as Record<string, unknown>;
      const email = primaryEmail(profile)!;
      expect(isValidEmail(email)).toBe(true);
      expect(email).toMatch(SYNTHETIC);
      emails.add(email);
      const ids = (profile as { identityMap: { Email: Array<{ id: string; primary: boolean }> } }).identityMap.Email;
      for (const e of ids) expect(e.id).toMatch(SYNTHETIC);
      if (ids.length > 1) secondary++;
      if (!ids[0].primary) secondaryFirst++;
      const ups = (profile as { segmentMembership: { ups: Record<string, { status: string; lastQualificationTime: string }> } })
        .segmentMembership.ups;
      expect(Object.keys(ups).length).toBeGreaterThan(0);
      for (const [id, m] of Object.entries(ups)) {
        audiences.add(id);
        statuses.set(m.status, (statuses.get(m.status) ?? 0) + 1);
        expect(Number.isNaN(Date.parse(m.lastQualificationTime))).toBe(false);
      }
    }
    expect(emails.size).toBe(1500);
    expect([...audiences].sort()).toEqual(SAMPLE_AUDIENCES.map((a) => a.id).sort());
    expect([...statuses.keys()].sort()).toEqual(['existing', 'exited', 'realized']);
    expect(secondary).toBeGreaterThan(100);
    expect(secondaryFirst).toBeGreaterThan(40);
  });

  it('CSV rows parse back to the same member', () => {
    const header = SAMPLE_CSV_COLUMNS.join(',');
    const audience = SAMPLE_AUDIENCES[0].id;
    let rows = 0;
    for (const p of generateProfileObjects({ count: 500, seed: 5 })) {
      const row = profileCsvRow(p, audience);
      if (row === undefined) {
        expect(p.segmentMembership.ups[audience]).toBeUndefined();
        continue;
      }
      rows++;
      const parsed = parseRecord({ line: 2, format: 'csv', raw: row, header }, audience, ['person.name.firstName', 'workAddress.city']);
      expect(isParsedMember(parsed)).toBe(true);
      if (!isParsedMember(parsed)) continue;
      expect(parsed.email).toBe(primaryEmail(p as unknown as Record<string, unknown>));
      expect(normalizeStatus(parsed.status)).toBe(p.segmentMembership.ups[audience].status);
      expect(parsed.values).toEqual({ 'person.name.firstName': p.person.name.firstName, 'workAddress.city': p.workAddress.city });
    }
    expect(rows).toBeGreaterThan(200);
  });

  it('the CLI writes the NDJSON file and the CSV variant', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sample-'));
    try {
      const out = path.join(dir, 'p.ndjson');
      const csv = path.join(dir, 'm.csv');
      const tsx = path.join(__dirname, '../../../node_modules/.bin/tsx');
      execFileSync(
        tsx,
        [path.join(__dirname, '../../../scripts/generate-sample.ts'), '--count', '300', '--seed', '9', '--out', out, '--csv', csv],
        { stdio: 'pipe' },
      );
      const lines = readFileSync(out, 'utf8').split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toEqual([...generateProfiles({ count: 300, seed: 9 })]);
      const csvLines = readFileSync(csv, 'utf8').trimEnd().split('\n');
      expect(csvLines[0]).toBe(SAMPLE_CSV_COLUMNS.join(','));
      expect(csvLines.length - 1).toBe(
        [...generateProfileObjects({ count: 300, seed: 9 })].filter((p) => p.segmentMembership.ups[SAMPLE_AUDIENCES[0].id]).length,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
