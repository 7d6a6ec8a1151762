/**
 * Turns one source record (XDM NDJSON line or CSV row) into a `ParsedMember`: the email as found, the
 * raw audience status and the value of every mapped source path. Type checks happen later (prepare).
 * Unreadable records are rejected with origin `source`; profiles outside the audience are skipped.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import type { SourceRecord } from '../members/types';
import { IDENTITY_SOURCE, type ParsedMember, type RejectionReason } from './types';
import { audienceMembership, audienceStatus, isPlainObject, primaryEmail, profileTimestamp, getPath } from './xdm';

export type ParseRejected = { kind: 'rejected'; line: number; reason: RejectionReason };
export type ParseSkipped = { kind: 'skipped'; line: number; reason: { code: string; message: string } };
export type ParseResult = ParsedMember | ParseRejected | ParseSkipped;

export function isParsedMember(r: ParseResult): r is ParsedMember {
  return r.kind === undefined || r.kind === 'member';
}

function rejected(line: number, code: string, message: string): ParseRejected {
  return { kind: 'rejected', line, reason: { code, message, origin: 'source' } };
}

/**
 * `audienceIds`: the run's audience (a string: one-audience behaviour, unchanged) or the listed audiences
 * of a several-audience run (an array: the member's `statuses` name each one it is a member of).
 */
export function parseRecord(record: SourceRecord, audienceIds: string | readonly string[], sourcePaths: string[]): ParseResult {
  if (record.defect) return rejected(record.line, record.defect.code, record.defect.message);
  return record.format === 'csv' ? parseCsvRecord(record, audienceIds, sourcePaths) : parseXdmRecord(record, audienceIds, sourcePaths);
}

function notInAudience(line: number, audienceIds: string | readonly string[]): ParseSkipped {
  const message =
    typeof audienceIds === 'string'
      ? `Profile has no segmentMembership entry for audience '${audienceIds}'`
      : `Profile has no segmentMembership entry for any of the ${audienceIds.length} listed audiences`;
  return { kind: 'skipped', line, reason: { code: 'NOT_IN_AUDIENCE', message } };
}

// ---- XDM NDJSON --------------------------------------------------------------------------------

function parseXdmRecord(record: SourceRecord, audienceIds: string | readonly string[], sourcePaths: string[]): ParseResult {
  let profile: unknown;
  try {
    profile = JSON.parse(record.raw);
  } catch {
    // JSON.parse's message quotes the input: never pass it on.
    return rejected(record.line, 'MALFORMED_RECORD', `Line ${record.line} is not valid JSON`);
  }
  if (!isPlainObject(profile))
    return rejected(record.line, 'MALFORMED_RECORD', `Line ${record.line} is not a JSON object (an XDM profile)`);
  const ids = typeof audienceIds === 'string' ? [audienceIds] : audienceIds;
  const statuses: Record<string, string | undefined> = {};
  for (const id of ids) if (audienceMembership(profile, id)) statuses[id] = audienceStatus(profile, id);
  const memberOf = Object.keys(statuses);
  if (memberOf.length === 0) return notInAudience(record.line, audienceIds);
  const email = primaryEmail(profile);
  const values: Record<string, unknown> = {};
  for (const path of sourcePaths) values[path] = path === IDENTITY_SOURCE ? email : getPath(profile, path);
  return {
    kind: 'member',
    line: record.line,
    email,
    status: statuses[memberOf[0]],
    ...(typeof audienceIds === 'string' ? {} : { statuses }),
    timestamp: profileTimestamp(profile),
    values,
  };
}

// ---- CSV ---------------------------------------------------------------------------------------

export interface CsvHeader {
  columns: string[];
  /** Column index by exact name. */
  index: Map<string, number>;
  emailColumn: number;
  statusColumn: number;
}

let lastHeaderText: string | undefined;
let lastHeader: CsvHeader | undefined;

/** Splits a CSV row; `undefined` when its quoting is invalid or it is not exactly one record. */
export function splitCsvRow(text: string): string[] | undefined {
  // Fast path: no quotes means a plain comma split is exactly what a CSV parser would return.
  if (!text.includes('"')) return text.split(',');
  try {
    const rows: string[][] = parseCsv(text, { relax_column_count: true, skip_empty_lines: false, record_delimiter: ['\r\n', '\n'] });
    return rows.length === 1 ? rows[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Parses (and caches, since every row of a file shares it) a header line; throws on a bad header. */
export function parseCsvHeader(text: string): CsvHeader {
  if (text === lastHeaderText && lastHeader) return lastHeader;
  const columns = splitCsvRow(text)?.map((c) => c.trim());
  if (!columns) throw new Error('The CSV header line is not valid CSV');
  const index = new Map<string, number>();
  columns.forEach((c, i) => {
    if (c === '') throw new Error(`CSV header column ${i + 1} is empty`);
    if (index.has(c)) throw new Error(`CSV header has a duplicate column '${c}'`);
    index.set(c, i);
  });
  const find = (name: string) => columns.findIndex((c) => c.toLowerCase() === name);
  const header: CsvHeader = { columns, index, emailColumn: find('email'), statusColumn: find('status') };
  lastHeaderText = text;
  lastHeader = header;
  return header;
}

function columnFor(header: CsvHeader, path: string): number {
  if (path === IDENTITY_SOURCE) return header.emailColumn;
  const exact = header.index.get(path);
  if (exact !== undefined) return exact;
  const lower = path.toLowerCase();
  return header.columns.findIndex((c) => c.toLowerCase() === lower);
}

/** Column of an audience's own status (`segmentMembership.ups.<audienceId>.status`), or -1. */
function audienceStatusColumn(header: CsvHeader, audienceId: string): number {
  return header.index.get(`segmentMembership.ups.${audienceId}.status`) ?? -1;
}

function parseCsvRecord(record: SourceRecord, audienceIds: string | readonly string[], sourcePaths: string[]): ParseResult {
  if (record.header === undefined) return rejected(record.line, 'MALFORMED_RECORD', `Row at line ${record.line} has no CSV header`);
  let header: CsvHeader;
  try {
    header = parseCsvHeader(record.header);
  } catch (e) {
    return rejected(record.line, 'MALFORMED_RECORD', (e as Error).message);
  }
  const cells = splitCsvRow(record.raw);
  if (!cells) return rejected(record.line, 'MALFORMED_RECORD', `Row at line ${record.line} is not valid CSV (check its quoting)`);
  if (cells.length !== header.columns.length) {
    return rejected(
      record.line,
      'MALFORMED_RECORD',
      `Row at line ${record.line} has ${cells.length} columns, the header has ${header.columns.length}`,
    );
  }
  const cell = (i: number): string | undefined => (i < 0 || cells[i] === '' ? undefined : cells[i]);
  const values: Record<string, unknown> = {};
  for (const path of sourcePaths) values[path] = cell(columnFor(header, path));
  const plain = cell(header.statusColumn) ?? 'realized';
  if (typeof audienceIds === 'string') {
    const own = audienceStatusColumn(header, audienceIds);
    if (own >= 0 && cell(own) === undefined) return notInAudience(record.line, audienceIds);
    return { kind: 'member', line: record.line, email: cell(header.emailColumn), status: own >= 0 ? cell(own) : plain, values };
  }
  // A column per audience: an empty cell is no membership; an audience without a column takes the plain `status`.
  const statuses: Record<string, string | undefined> = {};
  for (const id of audienceIds) {
    const own = audienceStatusColumn(header, id);
    if (own < 0) statuses[id] = plain;
    else if (cell(own) !== undefined) statuses[id] = cell(own);
  }
  const memberOf = Object.keys(statuses);
  if (memberOf.length === 0) return notInAudience(record.line, audienceIds);
  return { kind: 'member', line: record.line, email: cell(header.emailColumn), status: statuses[memberOf[0]], statuses, values };
}
