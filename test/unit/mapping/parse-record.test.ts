import { isParsedMember, parseRecord, parseCsvHeader, splitCsvRow } from '../../../src/mapping/parse-record';
import type { SourceRecord } from '../../../src/members/types';

const AUD = 'aud-1';
const xdm = (raw: string, line = 3): SourceRecord => ({ line, format: 'xdm-ndjson', raw });
const HEADER = 'Email,person.name.firstName,workAddress.city,Status';
const csv = (raw: string, header = HEADER): SourceRecord => ({ line: 7, format: 'csv', raw, header });

describe('parseRecord (XDM NDJSON)', () => {
  const profile = {
    identityMap: { Email: [{ id: 'Ana@Example.com', primary: true }] },
    person: { name: { firstName: 'Ana' } },
    segmentMembership: { ups: { [AUD]: { status: 'existing', lastQualificationTime: '2024-01-01T00:00:00Z' } } },
  };

  it('extracts email as found, raw status, timestamp and every mapped path', () => {
    const r = parseRecord(xdm(JSON.stringify(profile)), AUD, ['person.name.firstName', 'workAddress.city', 'identityMap.Email']);
    expect(r).toEqual({
      kind: 'member',
      line: 3,
      email: 'Ana@Example.com',
      status: 'existing',
      timestamp: '2024-01-01T00:00:00.000Z',
      values: { 'person.name.firstName': 'Ana', 'workAddress.city': undefined, 'identityMap.Email': 'Ana@Example.com' },
    });
    expect(isParsedMember(r)).toBe(true);
  });

  it('skips a profile without a membership entry for the audience', () => {
    expect(parseRecord(xdm(JSON.stringify(profile)), 'other', [])).toMatchObject({
      kind: 'skipped',
      line: 3,
      reason: { code: 'NOT_IN_AUDIENCE' },
    });
  });

  it.each(['{"identityMap":', '{"a":1} trailing', '[{"a":1}]', 'null', '42', '"text"'])(
    'rejects %p as MALFORMED_RECORD from the source',
    (raw) => {
      const r = parseRecord(xdm(raw), AUD, []);
      expect(r).toMatchObject({ kind: 'rejected', line: 3, reason: { code: 'MALFORMED_RECORD', origin: 'source' } });
      expect(isParsedMember(r)).toBe(false);
    },
  );

  it('never quotes the input in its message', () => {
    const r = parseRecord(xdm('{"email": "secret@example.com" oops}'), AUD, []);
    expect(JSON.stringify(r)).not.toContain('secret');
  });

  it('rejects a record the reader flagged, with the reader’s code', () => {
    const r = parseRecord({ ...xdm(''), defect: { code: 'LINE_TOO_LONG', message: 'too long' } }, AUD, []);
    expect(r).toEqual({ kind: 'rejected', line: 3, reason: { code: 'LINE_TOO_LONG', message: 'too long', origin: 'source' } });
  });
});

describe('parseRecord (CSV)', () => {
  it('maps columns by source path, email and status case-insensitively', () => {
    expect(
      parseRecord(csv('b@example.com,"Smith, Jr.",Lisbon,exited'), AUD, ['person.name.firstName', 'workAddress.city', 'missing.column']),
    ).toEqual({
      kind: 'member',
      line: 7,
      email: 'b@example.com',
      status: 'exited',
      values: { 'person.name.firstName': 'Smith, Jr.', 'workAddress.city': 'Lisbon', 'missing.column': undefined },
    });
  });

  it('defaults a missing status to realized and treats empty cells as absent', () => {
    expect(parseRecord(csv('b@example.com,,,'), AUD, ['person.name.firstName'])).toMatchObject({
      email: 'b@example.com',
      status: 'realized',
      values: { 'person.name.firstName': undefined },
    });
    expect(parseRecord(csv(',Ana', 'email,person.name.firstName'), AUD, ['person.name.firstName'])).toMatchObject({
      email: undefined,
      status: 'realized',
      values: { 'person.name.firstName': 'Ana' },
    });
  });

  it.each([
    'a@example.com,Ana,Lisbon',
    'a@example.com,Ana,Lisbon,realized,extra',
    'a@example.com,"Ana,Lisbon,realized',
    'a@example.com,An"a,Lisbon,realized',
    'a@example.com,"Ana"x,Lisbon,realized',
  ])('rejects %p as MALFORMED_RECORD', (raw) => {
    expect(parseRecord(csv(raw), AUD, [])).toMatchObject({ kind: 'rejected', reason: { code: 'MALFORMED_RECORD', origin: 'source' } });
  });

  it('keeps quoted newlines and escaped quotes', () => {
    expect(parseRecord(csv('a@example.com,"Line 1\nLine ""2""",x,realized'), AUD, ['person.name.firstName'])).toMatchObject({
      values: { 'person.name.firstName': 'Line 1\nLine "2"' },
    });
  });

  it('rejects a row without a usable header', () => {
    expect(parseRecord({ line: 2, format: 'csv', raw: 'a' }, AUD, [])).toMatchObject({
      kind: 'rejected',
      reason: { code: 'MALFORMED_RECORD' },
    });
    expect(parseRecord(csv('a,b', 'email,email'), AUD, [])).toMatchObject({ kind: 'rejected', reason: { code: 'MALFORMED_RECORD' } });
  });

  it('parseCsvHeader finds the email and status columns and refuses duplicate or empty names', () => {
    expect(parseCsvHeader(HEADER)).toMatchObject({ emailColumn: 0, statusColumn: 3 });
    expect(parseCsvHeader('a,b').emailColumn).toBe(-1);
    expect(() => parseCsvHeader('email,a,a')).toThrow(/duplicate column 'a'/);
    expect(() => parseCsvHeader('email,,a')).toThrow(/empty/);
  });

  it('splitCsvRow agrees with a CSV parser', () => {
    expect(splitCsvRow('a,b,,c')).toEqual(['a', 'b', '', 'c']);
    expect(splitCsvRow('"a,b","c""d",e')).toEqual(['a,b', 'c"d', 'e']);
    expect(splitCsvRow('"a\r\nb",c')).toEqual(['a\r\nb', 'c']);
    expect(splitCsvRow('"a"\n"b"')).toBeUndefined(); // two records
  });
});
