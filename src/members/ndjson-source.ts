/** XDM profiles as NDJSON: one profile per line; blank lines are skipped (their numbers still count). */
import type { Readable } from 'node:stream';
import { readRecordPage } from './line-reader';
import type { SourceCursor, SourcePage, SourceRecord } from './types';

/** Reads one page from a stream opened at `cursor.offset`. */
export async function readNdjsonPage(
  stream: Readable,
  cursor: SourceCursor,
  pageSize: number,
  opts: { maxLineBytes: number },
): Promise<SourcePage> {
  const page = await readRecordPage(stream, cursor, pageSize, { csv: false, maxLineBytes: opts.maxLineBytes });
  const records: SourceRecord[] = page.records.map((r) => ({
    line: r.line,
    format: 'xdm-ndjson',
    raw: r.raw,
    ...(r.defect ? { defect: r.defect } : {}),
  }));
  return { records, next: page.next, done: page.done };
}
