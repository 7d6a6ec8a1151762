/**
 * CSV custom uploads: line 1 is the header (source paths as column names, an `email` column, an
 * optional `status` column); every later record is one member. Quoted fields may hold commas, quotes
 * and newlines. Each record carries the header so it can be parsed (and re-sent) on its own.
 */
import type { Readable } from 'node:stream';
import { AppError } from '../errors';
import { parseCsvHeader } from '../mapping/parse-record';
import { readRecordPage } from './line-reader';
import { START_CURSOR, type SourceCursor, type SourcePage, type SourceRecord } from './types';

export type OpenAt = (offset: number) => Promise<Readable>;

export interface CsvHeaderInfo {
  header: string;
  /** Cursor of the first data record. */
  dataStart: SourceCursor;
}

/** Reads and checks the header; `undefined` for an empty file. A bad header fails the whole source. */
export async function readCsvHeader(open: OpenAt, opts: { maxLineBytes: number }): Promise<CsvHeaderInfo | undefined> {
  const page = await readRecordPage(await open(0), START_CURSOR, 1, { csv: true, maxLineBytes: opts.maxLineBytes });
  const first = page.records[0];
  if (!first) return undefined;
  if (first.defect) throw new AppError('VALIDATION_FAILED', `The CSV header line cannot be read: ${first.defect.message}`);
  let parsed;
  try {
    parsed = parseCsvHeader(first.raw);
  } catch (e) {
    throw new AppError('VALIDATION_FAILED', `${(e as Error).message}; the first line must name the columns (source paths)`);
  }
  if (parsed.emailColumn < 0) {
    throw new AppError('VALIDATION_FAILED', "The CSV header has no 'email' column; add one holding each member's email address");
  }
  return { header: first.raw, dataStart: page.next };
}

/**
 * Reads one page of data records. `cursor` is START_CURSOR (or anything before the first data
 * record) for the first page, else a cursor this function returned. `header` may be passed in when the
 * caller has cached it.
 */
export async function readCsvPage(
  open: OpenAt,
  cursor: SourceCursor,
  pageSize: number,
  opts: { maxLineBytes: number; header?: CsvHeaderInfo },
): Promise<SourcePage> {
  const header = opts.header ?? (await readCsvHeader(open, opts));
  if (!header) return { records: [], next: cursor, done: true };
  const from = cursor.offset < header.dataStart.offset ? header.dataStart : cursor;
  const page = await readRecordPage(await open(from.offset), from, pageSize, { csv: true, maxLineBytes: opts.maxLineBytes });
  const records: SourceRecord[] = page.records.map((r) => ({
    line: r.line,
    format: 'csv',
    raw: r.raw,
    header: header.header,
    ...(r.defect ? { defect: r.defect } : {}),
  }));
  return { records, next: page.next, done: page.done };
}
