/**
 * Member sources: where an activation's members come from, and the records they yield.
 * A source is read in pages from a cursor (byte offset + line number), so a retried or resumed page
 * re-reads exactly the same records, and contact data never has to travel through workflow history.
 */

/** Audience membership status as the reference destination writes it. */
export type MemberStatus = 'realized' | 'existing' | 'exited';
export const MEMBER_STATUSES: readonly MemberStatus[] = ['realized', 'existing', 'exited'];

/** Where members come from. Serializable: it is part of workflow input. */
export type SourceRef =
  /** A file uploaded through `POST /v1/uploads` (format detected at upload). */
  | { kind: 'upload'; uploadId: string }
  /** A file on the worker's filesystem under an allowed source directory. */
  | { kind: 'path'; path: string }
  /** The stored rejections of an earlier activation run (re-run of rejected members). */
  | { kind: 'rejections'; activationId: string }
  /**
   * A PostgreSQL query through a source connection (src/sources/postgres.ts): rows read by keyset on `key`
   * (default `email`), column names as source paths (as CSV headers).
   */
  | { kind: 'sql'; connectionId: string; query: string; key?: string };

export type SourceFormat = 'xdm-ndjson' | 'csv';

/** Position in a source. `offset` is the byte offset of the next unread record; `line` its 1-based line number. */
export interface SourceCursor {
  offset: number;
  line: number;
  /** SQL sources: the key of the last row read (`offset` counts the rows read). Absent = from the first row. */
  after?: string;
}

export const START_CURSOR: SourceCursor = { offset: 0, line: 1 };

/**
 * One record read from a source, before mapping. Contains personal data: it never goes into workflow
 * history or logs. `raw` is the exact source text (NDJSON line, or CSV row re-joined with its header
 * in `header`) kept so a rejected record can be re-sent later after the user fixes mapping or data.
 */
export interface SourceRecord {
  /** 1-based line (NDJSON) or row (CSV, header = line 1) number in the source, for rejection reports. */
  line: number;
  format: SourceFormat;
  raw: string;
  /** CSV only: the header line the row belongs to (needed to re-parse `raw` alone). */
  header?: string;
  /**
   * Set by the source reader when the record cannot be read as such: a line over `MAX_LINE_BYTES`
   * (`raw` is then '' — the reader never buffers it), or a CSV row whose quoting leaves it without a
   * clear end. `parseRecord` turns it into a rejection; the message never contains record content.
   */
  defect?: SourceRecordDefect;
}

export interface SourceRecordDefect {
  code: 'LINE_TOO_LONG' | 'MALFORMED_RECORD';
  message: string;
}

/** A page of records and where the next page starts. */
export interface SourcePage {
  records: SourceRecord[];
  next: SourceCursor;
  done: boolean;
}
