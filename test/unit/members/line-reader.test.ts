/**
 * The record scanner: exact byte offsets and line numbers, blank lines, CRLF, BOM, over-long lines,
 * CSV quoting (commas, quotes, newlines) and malformed quoting; and the paging guarantees: reading page
 * by page from returned cursors, with any chunking, yields every record exactly once, and resuming from
 * any returned cursor yields the same remaining records.
 */
import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { readRecordPage, RecordScanner, type ScannedRecord, type ScannerOptions } from '../../../src/members/line-reader';
import { createPrng } from '../../../src/members/sample-profiles';
import { START_CURSOR, type SourceCursor } from '../../../src/members/types';
import { splitCsvRow } from '../../../src/mapping/parse-record';

function streamOf(buf: Buffer, chunkSize: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) chunks.push(buf.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

async function readPages(buf: Buffer, opts: ScannerOptions, pageSize: number, chunkSize: number, from: SourceCursor = START_CURSOR) {
  const records: ScannedRecord[] = [];
  const cursors: SourceCursor[] = [];
  let cursor = from;
  for (let guard = 0; guard < 100_000; guard++) {
    const page = await readRecordPage(streamOf(buf.subarray(cursor.offset), chunkSize), cursor, pageSize, opts);
    records.push(...page.records);
    expect(page.records.length).toBeLessThanOrEqual(pageSize);
    cursor = page.next;
    cursors.push(cursor);
    if (page.done) return { records, cursors, end: cursor };
    expect(page.records.length).toBe(pageSize); // only the last page is short
  }
  throw new Error('no progress');
}

/** Scans a whole buffer in one go with a synchronous scanner: the reference result. */
function scanAll(buf: Buffer, opts: ScannerOptions): ScannedRecord[] {
  const s = new RecordScanner(START_CURSOR, opts);
  s.feed(buf);
  s.end();
  const out: ScannedRecord[] = [];
  for (;;) {
    const step = s.next();
    if (step === 'eof') return out;
    if (step === 'more') throw new Error('scanner asked for more after end');
    out.push(step);
  }
}

const lineAt = (buf: Buffer, offset: number) => 1 + buf.subarray(0, offset).toString('latin1').split('\n').length - 1;

const NDJSON: ScannerOptions = { csv: false, maxLineBytes: 1024 };
const CSV: ScannerOptions = { csv: true, maxLineBytes: 1024 };

describe('NDJSON scanning', () => {
  it('returns records with exact offsets and lines, skipping blank lines and stripping CRLF', async () => {
    const text = '{"a":1}\n\n{"b":2}\r\n   \n\t\r\n{"c":"é"}\n{"d":4}';
    const buf = Buffer.from(text);
    const { records, end } = await readPages(buf, NDJSON, 10, 3);
    expect(records.map((r) => [r.line, r.raw])).toEqual([
      [1, '{"a":1}'],
      [3, '{"b":2}'],
      [6, '{"c":"é"}'],
      [7, '{"d":4}'],
    ]);
    for (const r of records) expect(buf.subarray(r.offset).toString().startsWith(r.raw)).toBe(true);
    expect(end).toEqual({ offset: buf.length, line: 8 });
  });

  it('skips a UTF-8 BOM at the start of the file', async () => {
    const buf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"b":2}\n')]);
    const { records } = await readPages(buf, NDJSON, 10, 1);
    expect(records.map((r) => [r.offset, r.line, r.raw])).toEqual([
      [3, 1, '{"a":1}'],
      [11, 2, '{"b":2}'],
    ]);
  });

  it('reports done exactly: a full last page followed by blank lines is done', async () => {
    const buf = Buffer.from('{"a":1}\n{"b":2}\n\n\n');
    const page = await readRecordPage(streamOf(buf, 4), START_CURSOR, 2, NDJSON);
    expect(page.records).toHaveLength(2);
    expect(page.done).toBe(true);
    expect(page.next).toEqual({ offset: buf.length, line: 5 });
    const partial = await readRecordPage(streamOf(buf, 4), START_CURSOR, 1, NDJSON);
    expect(partial.done).toBe(false);
    expect(partial.next).toEqual({ offset: 8, line: 2 });
  });

  it('returns an empty done page for an empty or blank file', async () => {
    for (const text of ['', '\n\n', '  \r\n']) {
      const page = await readRecordPage(streamOf(Buffer.from(text), 2), START_CURSOR, 5, NDJSON);
      expect(page).toEqual({
        records: [],
        next: { offset: Buffer.byteLength(text), line: 1 + (text.match(/\n/g)?.length ?? 0) },
        done: true,
      });
    }
  });

  it.each([7, 100, 5000])('turns a line over maxLineBytes into a LINE_TOO_LONG record without buffering it (chunk %i)', async (chunk) => {
    const long = `{"x":"${'z'.repeat(3000)}"}`;
    const buf = Buffer.from(`{"a":1}\n${long}\n{"b":2}\n${long}`);
    const { records } = await readPages(buf, NDJSON, 2, chunk);
    expect(records.map((r) => [r.line, r.raw, r.defect?.code])).toEqual([
      [1, '{"a":1}', undefined],
      [2, '', 'LINE_TOO_LONG'],
      [3, '{"b":2}', undefined],
      [4, '', 'LINE_TOO_LONG'],
    ]);
    expect(records[1].offset).toBe(8);
    expect(records[1].defect!.message).not.toContain('zzz');
  });

  it('never holds much more than maxLineBytes plus a chunk while skipping a huge line', async () => {
    const scanner = new RecordScanner(START_CURSOR, { csv: false, maxLineBytes: 100 });
    const chunk = Buffer.alloc(1000, 0x61);
    let steps = 0;
    for (let i = 0; i < 1000; i++) {
      scanner.feed(chunk);
      expect(scanner.next()).toBe('more');
      steps++;
      expect((scanner as unknown as { buf: Buffer }).buf.length).toBeLessThanOrEqual(1100);
    }
    scanner.feed(Buffer.from('\n{"ok":1}\n'));
    const rec = scanner.next() as ScannedRecord;
    expect(rec).toMatchObject({ offset: 0, line: 1, raw: '', defect: { code: 'LINE_TOO_LONG' } });
    expect(scanner.next()).toMatchObject({ offset: 1_000_001, line: 2, raw: '{"ok":1}' });
    expect(steps).toBe(1000);
  });
});

describe('CSV scanning', () => {
  it('keeps quoted commas, escaped quotes and newlines inside one record and counts its lines', async () => {
    const text =
      'email,note\na@example.com,"x, y"\nb@example.com,"say ""hi"""\r\nc@example.com,"one\ntwo\r\nthree"\n\nd@example.com,plain\n';
    const buf = Buffer.from(text);
    const { records } = await readPages(buf, CSV, 2, 5);
    expect(records.map((r) => [r.line, r.raw, r.defect])).toEqual([
      [1, 'email,note', undefined],
      [2, 'a@example.com,"x, y"', undefined],
      [3, 'b@example.com,"say ""hi"""', undefined],
      [4, 'c@example.com,"one\ntwo\r\nthree"', undefined],
      [8, 'd@example.com,plain', undefined],
    ]);
    expect(splitCsvRow(records[3].raw)).toEqual(['c@example.com', 'one\ntwo\r\nthree']);
  });

  it('ends a record whose quote never closes at its first physical line and resumes on the next', async () => {
    const text = 'h1,h2\n"open,1\nb@example.com,2\nc@example.com,"q"\nd@example.com,"e\n';
    const { records } = await readPages(Buffer.from(text), CSV, 10, 4);
    expect(records.map((r) => [r.line, r.raw, r.defect?.code])).toEqual([
      [1, 'h1,h2', undefined],
      [2, '"open,1', 'MALFORMED_RECORD'],
      [3, 'b@example.com,2', undefined],
      [4, 'c@example.com,"q"', undefined],
      [5, 'd@example.com,"e', 'MALFORMED_RECORD'],
    ]);
  });

  it('flags junk after a closing quote, and reads a stray quote inside a field as plain text', async () => {
    const text = 'a,"b"x,c\nd,e"f,"g\nh,i\n';
    const { records } = await readPages(Buffer.from(text), CSV, 10, 3);
    expect(records.map((r) => [r.line, r.raw, r.defect?.code])).toEqual([
      [1, 'a,"b"x,c', 'MALFORMED_RECORD'],
      [2, 'd,e"f,"g', undefined], // invalid CSV: parse-record rejects it
      [3, 'h,i', undefined],
    ]);
    expect(splitCsvRow('d,e"f,"g')).toBeUndefined();
  });

  it('falls back to the first line when a quoted field grows past maxLineBytes', async () => {
    const text = `a,"${'x\n'.repeat(100)}\nb,c\n`;
    const { records } = await readPages(Buffer.from(text), { csv: true, maxLineBytes: 50 }, 10, 16);
    expect(records[0]).toMatchObject({ line: 1, raw: 'a,"x', defect: { code: 'MALFORMED_RECORD' } });
    expect(records).toHaveLength(101);
    expect(records[records.length - 1]).toMatchObject({ line: 102, raw: 'b,c' });
  });
});

// ---- property tests ----------------------------------------------------------------------------

function randomNdjson(rnd: () => number, n: number, maxLineBytes: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.1) parts.push('');
    else if (r < 0.15) parts.push('  \t');
    else if (r < 0.2) parts.push(`{"long":"${'é'.repeat(maxLineBytes)}"}`);
    else if (r < 0.25) parts.push('{"broken":');
    else parts.push(JSON.stringify({ i, name: 'ñ'.repeat(Math.floor(rnd() * 20)) }));
    parts.push(rnd() < 0.3 ? '\r\n' : '\n');
  }
  if (rnd() < 0.5) parts.pop(); // no trailing newline
  return Buffer.from(parts.join(''));
}

function randomCsv(rnd: () => number, n: number, wellFormed: boolean, maxLineBytes: number): Buffer {
  const field = (): string => {
    const r = rnd();
    if (r < 0.3) return `w${Math.floor(rnd() * 1000)}`;
    if (r < 0.4) return '';
    if (r < 0.5) return '"a, b"';
    if (r < 0.6) return '"line1\nline2"';
    if (r < 0.65) return '"cr\r\nlf"';
    if (r < 0.75) return '"say ""x"""';
    if (r < 0.8) return 'ünï';
    if (wellFormed) return 'plain';
    if (r < 0.84) return 'st"ray';
    if (r < 0.88) return '"unclosed';
    if (r < 0.92) return '"junk"after';
    if (r < 0.95) return `"${'q'.repeat(maxLineBytes + 5)}"`;
    return 'z'.repeat(maxLineBytes + 5);
  };
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.08) {
      parts.push(rnd() < 0.5 ? '\n' : '\r\n');
      continue;
    }
    const cols = 1 + Math.floor(rnd() * 4);
    parts.push(Array.from({ length: cols }, field).join(','));
    parts.push(rnd() < 0.3 ? '\r\n' : '\n');
  }
  if (rnd() < 0.5 && parts.length) parts.pop();
  return Buffer.from(parts.join(''));
}

const shape = (records: ScannedRecord[]) => records.map((r) => ({ offset: r.offset, line: r.line, raw: r.raw, defect: r.defect?.code }));

describe('paging guarantees (randomised, seeded)', () => {
  const cases: Array<[string, ScannerOptions, (rnd: () => number) => Buffer]> = [
    ['ndjson', { csv: false, maxLineBytes: 40 }, (rnd) => randomNdjson(rnd, 60, 40)],
    ['csv', { csv: true, maxLineBytes: 40 }, (rnd) => randomCsv(rnd, 60, false, 40)],
    ['well-formed csv', { csv: true, maxLineBytes: 10_000 }, (rnd) => randomCsv(rnd, 60, true, 10_000)],
  ];

  for (const [name, opts, gen] of cases) {
    it(`${name}: any chunking and page size yields the same records, each exactly once, with exact offsets and lines`, async () => {
      for (let seed = 1; seed <= 16; seed++) {
        const buf = gen(createPrng(seed));
        const reference = scanAll(buf, opts);
        for (const r of reference) {
          expect(r.line).toBe(lineAt(buf, r.offset));
          if (!r.defect) expect(buf.subarray(r.offset, r.offset + Buffer.byteLength(r.raw)).toString()).toBe(r.raw);
        }
        // Byte-by-byte chunks are slow: a few seeds suffice for them.
        const combos =
          seed <= 3
            ? [
                [1, 1],
                [2, 3],
                [7, 16],
                [1000, 64 * 1024],
              ]
            : [
                [2, 3],
                [7, 16],
                [1000, 64 * 1024],
              ];
        for (const [pageSize, chunk] of combos as Array<[number, number]>) {
          const { records, cursors, end } = await readPages(buf, opts, pageSize, chunk);
          expect(shape(records)).toEqual(shape(reference));
          expect(end.offset).toBe(buf.length);
          // Resuming from any returned cursor gives exactly the remaining records.
          for (const c of cursors.slice(0, 5)) {
            const rest = await readPages(buf, opts, 1000, 5, c);
            expect(shape(rest.records)).toEqual(shape(reference.filter((r) => r.offset >= c.offset)));
          }
        }
        // Starting at any record's own offset/line resumes there too.
        for (const r of reference.slice(0, 10)) {
          const rest = await readPages(buf, opts, 1000, 7, { offset: r.offset, line: r.line });
          expect(shape(rest.records)).toEqual(shape(reference.filter((x) => x.offset >= r.offset)));
        }
      }
    });
  }

  it('well-formed CSV splits into exactly the records csv-parse finds', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const buf = randomCsv(createPrng(seed), 80, true, 10_000);
      const ours = scanAll(buf, { csv: true, maxLineBytes: 10_000 }).map((r) => splitCsvRow(r.raw));
      const theirs: string[][] = parseCsv(buf, { relax_column_count: true, skip_empty_lines: true, record_delimiter: ['\r\n', '\n'] });
      expect(ours).toEqual(theirs);
    }
  });
});
