/**
 * Watches an upload go by: detects its format and counts its records with the same scanner (and the
 * same `maxLineBytes`) the source reader uses, so `rows` is exactly the number of records an
 * activation will receive.
 */
import { RecordScanner } from './line-reader';
import { START_CURSOR, type SourceFormat } from './types';

/** Default record size limit (matches `MAX_LINE_BYTES`' default). */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const NDJSON_EXT = /\.(ndjson|jsonl|json)$/i;
const CSV_EXT = /\.csv$/i;

/** Format from a file name's extension; undefined when it says nothing. */
export function formatFromFilename(filename: string | undefined): SourceFormat | undefined {
  if (!filename) return undefined;
  if (NDJSON_EXT.test(filename)) return 'xdm-ndjson';
  if (CSV_EXT.test(filename)) return 'csv';
  return undefined;
}

/** Format from a content type; generic types (text/plain, application/octet-stream) say nothing. */
export function formatFromContentType(contentType: string | undefined): SourceFormat | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!t) return undefined;
  if (t === 'text/csv' || t === 'application/csv' || t === 'text/comma-separated-values') return 'csv';
  if (/^application\/(x-)?(ndjson|jsonl|jsonlines|json-seq|json)$/.test(t) || t === 'application/x-json-stream') return 'xdm-ndjson';
  return undefined;
}

export class UploadAnalyzer {
  private format: SourceFormat | undefined;
  private scanner: RecordScanner | undefined;
  private pending: Buffer[] = [];
  private records = 0;

  constructor(
    declared: SourceFormat | undefined,
    private readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
  ) {
    this.format = declared;
    if (declared) this.start(declared);
  }

  push(chunk: Buffer): void {
    if (this.scanner) {
      this.scanner.feed(chunk);
      this.drain();
      return;
    }
    this.pending.push(chunk);
    const sniffed = sniff(Buffer.concat(this.pending));
    if (sniffed) this.start(sniffed);
  }

  finish(): { format: SourceFormat; rows: number } {
    if (!this.scanner) this.start('xdm-ndjson'); // empty or whitespace-only: nothing to sniff
    this.scanner!.end();
    this.drain();
    const format = this.format!;
    // CSV: the first record is the header.
    const rows = format === 'csv' ? Math.max(0, this.records - 1) : this.records;
    return { format, rows };
  }

  private start(format: SourceFormat): void {
    this.format = format;
    this.scanner = new RecordScanner(START_CURSOR, { csv: format === 'csv', maxLineBytes: this.maxLineBytes, keepRaw: false });
    for (const c of this.pending) this.scanner.feed(c);
    this.pending = [];
    this.drain();
  }

  private drain(): void {
    const s = this.scanner!;
    for (;;) {
      const step = s.next();
      if (step === 'more' || step === 'eof') return;
      this.records++;
    }
  }
}

/** First non-blank character (after a BOM): `{` → NDJSON, anything else → CSV; undefined = need more. */
function sniff(b: Buffer): SourceFormat | undefined {
  const BOM = [0xef, 0xbb, 0xbf];
  let i = 0;
  while (i < 3 && i < b.length && b[i] === BOM[i]) i++;
  if (i < 3 && i === b.length) return undefined; // maybe a BOM cut by the chunk boundary
  if (i < 3) i = 0;
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    return c === 0x7b ? 'xdm-ndjson' : 'csv';
  }
  return undefined;
}
