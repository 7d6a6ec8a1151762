/**
 * Record scanner shared by the NDJSON and CSV sources and the upload row counter.
 *
 * It works on raw bytes so cursors are exact byte offsets, finds line ends with `Buffer.indexOf`
 * (native, fast), and never buffers more than about `maxLineBytes` plus one chunk:
 *  - blank lines (empty or only spaces, tabs, `\r`) are skipped but counted in line numbers;
 *  - a record ends at `\n` (a preceding `\r` is dropped), or at end of input;
 *  - in CSV mode a `"` at the start of a field opens a quoted field that may hold commas, `""` and
 *    newlines; a record is then one CSV record, possibly spanning several physical lines;
 *  - a record longer than `maxLineBytes` (not counting its line end) is returned with `raw = ''` and
 *    a `LINE_TOO_LONG` defect;
 *  - a CSV record that cannot end where its quoting says (junk after a closing quote, end of input
 *    inside quotes) or that spans lines and is over the limit ends at its first physical line instead,
 *    with a `MALFORMED_RECORD` defect (`LINE_TOO_LONG` if that line alone is over the limit), and
 *    scanning resumes on the next line.
 * Record boundaries depend only on where scanning starts, so resuming from any returned cursor yields
 * exactly the records a single pass would have yielded after it.
 */
import type { Readable } from 'node:stream';
import type { SourceCursor, SourceRecordDefect } from './types';

export interface ScannerOptions {
  csv: boolean;
  maxLineBytes: number;
  /** Decode each record's text (default true); the row counter only needs boundaries. */
  keepRaw?: boolean;
}

export interface ScannedRecord {
  /** Byte offset of the record's first byte. */
  offset: number;
  /** 1-based physical line number where the record starts. */
  line: number;
  raw: string;
  defect?: SourceRecordDefect;
}

export type ScanStep = ScannedRecord | 'more' | 'eof';

const NL = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;
const EMPTY = Buffer.alloc(0);
const UNKNOWN = -2;

export class RecordScanner {
  private buf: Buffer = EMPTY;
  /** Absolute offset of buf[0]. */
  private bufOffset: number;
  /** Index in buf of the next unconsumed byte (start of the current record or blank line). */
  private p = 0;
  private line: number;
  private ended = false;
  private bomPending: boolean;
  private readonly keepRaw: boolean;

  // Scan state of the current record; positions are relative to p so they survive buffer compaction.
  private inRecord = false;
  private scanRel = 0;
  private inQuotes = false;
  private plainLine = false;
  private malformed = false;
  private firstNlRel = -1;
  /** Result of the last quote search in buf (-1: none), or UNKNOWN after the buffer changed. */
  private nextQuote = UNKNOWN;
  /** Where that search started: scanning can move back (a record cut at its first line). */
  private nextQuoteFrom = 0;

  /** Set while skipping the rest of an over-long record to the end of its physical line. */
  private skipping: { offset: number; line: number } | undefined;

  constructor(
    start: SourceCursor,
    private readonly opts: ScannerOptions,
  ) {
    this.bufOffset = start.offset;
    this.line = start.line;
    this.bomPending = start.offset === 0;
    this.keepRaw = opts.keepRaw ?? true;
  }

  /** Position of the next unconsumed byte: valid between records (after `next` or `peek`). */
  get cursor(): SourceCursor {
    return { offset: this.bufOffset + this.p, line: this.line };
  }

  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.p >= this.buf.length) {
      this.bufOffset += this.buf.length;
      this.buf = chunk;
    } else {
      this.bufOffset += this.p;
      this.buf = Buffer.concat([this.buf.subarray(this.p), chunk]);
    }
    this.p = 0;
    this.nextQuote = UNKNOWN;
  }

  end(): void {
    this.ended = true;
  }

  /** Skips blank lines; tells whether a record starts at the cursor. */
  peek(): 'record' | 'more' | 'eof' {
    if (this.inRecord || this.skipping) return 'record';
    const b = this.buf;
    const n = b.length;
    if (this.bomPending) {
      if (n - this.p < 3 && !this.ended) return 'more';
      if (n - this.p >= 3 && b[this.p] === 0xef && b[this.p + 1] === 0xbb && b[this.p + 2] === 0xbf) this.p += 3;
      this.bomPending = false;
    }
    for (;;) {
      let j = this.p;
      while (j < n) {
        const c = b[j];
        if (c !== 32 && c !== 9 && c !== CR) break;
        j++;
      }
      if (j === n) {
        if (!this.ended) return 'more';
        this.p = n; // trailing whitespace at end of input
        return 'eof';
      }
      if (b[j] !== NL) return 'record';
      this.p = j + 1;
      this.line++;
    }
  }

  next(): ScanStep {
    if (this.skipping) return this.continueSkipping();
    const state = this.peek();
    if (state !== 'record') return state;
    this.inRecord = true;
    return this.opts.csv ? this.scanCsv() : this.scanLine();
  }

  // ---- NDJSON ----------------------------------------------------------------------------------

  private scanLine(): ScanStep {
    const b = this.buf;
    const nl = b.indexOf(NL, this.p + this.scanRel);
    if (nl !== -1) return this.emit(nl, nl + 1, 0);
    if (this.ended) return this.emit(b.length, b.length, 0);
    return this.needMore(b.length);
  }

  // ---- CSV -------------------------------------------------------------------------------------

  /** First quote at or after i, reusing the last search when i lies between its start and its result. */
  private quoteFrom(i: number): number {
    const q = this.nextQuote;
    if (q !== UNKNOWN && i >= this.nextQuoteFrom && (q === -1 || q >= i)) return q;
    this.nextQuoteFrom = i;
    this.nextQuote = this.buf.indexOf(QUOTE, i);
    return this.nextQuote;
  }

  private scanCsv(): ScanStep {
    const b = this.buf;
    const n = b.length;
    const p = this.p;
    let i = p + this.scanRel;
    while (i < n) {
      if (!this.inQuotes) {
        const nlAt = b.indexOf(NL, i);
        const nl = nlAt === -1 ? n : nlAt;
        const q = this.plainLine ? -1 : this.quoteFrom(i);
        if (q === -1 || q >= nl) {
          if (nlAt === -1) {
            i = n;
            break;
          }
          return this.emitCsv(nl, nl + 1);
        }
        if (q === p || b[q - 1] === COMMA) {
          this.inQuotes = true;
        } else {
          // A quote inside an unquoted field makes the row invalid CSV (the parser rejects it); read
          // the rest of the physical line as plain text so a stray quote cannot swallow later lines.
          this.plainLine = true;
        }
        i = q + 1;
        continue;
      }
      // Inside a quoted field: the next quote either escapes a quote or closes the field.
      const q = b.indexOf(QUOTE, i);
      if (this.firstNlRel < 0) {
        const nl = b.indexOf(NL, i);
        if (nl !== -1 && (q === -1 || nl < q)) this.firstNlRel = nl - p;
      }
      if (q === -1) {
        i = n;
        break;
      }
      if (q + 2 >= n && !this.ended) {
        i = q; // need the bytes after the quote to know what it means
        break;
      }
      const after = q + 1 < n ? b[q + 1] : -1;
      if (after === QUOTE) {
        i = q + 2;
        continue;
      }
      if (after === COMMA || after === NL || after === -1 || (after === CR && (q + 2 >= n || b[q + 2] === NL))) {
        // Field closed; the unquoted branch handles the delimiter or the end of the record.
        this.inQuotes = false;
        i = q + 1;
        continue;
      }
      // Junk after a closing quote.
      if (this.firstNlRel >= 0) return this.cutAtFirstLine();
      this.inQuotes = false;
      this.plainLine = true;
      this.malformed = true;
      i = q + 1;
    }
    // Reached the end of the buffered bytes.
    if (this.ended) {
      if (this.inQuotes && this.firstNlRel >= 0) return this.cutAtFirstLine();
      if (this.inQuotes) this.malformed = true;
      return this.emitCsv(n, n);
    }
    return this.needMore(i);
  }

  private emitCsv(contentEnd: number, next: number): ScannedRecord {
    const b = this.buf;
    const content = contentEnd - this.p - (contentEnd > this.p && b[contentEnd - 1] === CR ? 1 : 0);
    // Over the limit: the record ends at its first physical line, whatever its quoting says, so the
    // boundary never depends on how much of the file happened to be buffered.
    if (content > this.opts.maxLineBytes && this.firstNlRel >= 0) return this.cutAtFirstLine();
    const malformed = this.malformed;
    const newlines = this.firstNlRel >= 0 ? countNewlines(b, this.p + this.firstNlRel, contentEnd) : 0;
    const rec = this.emit(contentEnd, next, newlines);
    if (malformed && !rec.defect) {
      rec.defect = {
        code: 'MALFORMED_RECORD',
        message: `Row at line ${rec.line} has a quoted field that is not closed properly (or the row is over the ${this.opts.maxLineBytes}-byte limit)`,
      };
    }
    return rec;
  }

  /** The record cannot end where its quoting says: it is its first physical line only. */
  private cutAtFirstLine(): ScannedRecord {
    const nl = this.p + this.firstNlRel;
    this.firstNlRel = -1;
    this.malformed = true;
    return this.emitCsv(nl, nl + 1);
  }

  // ---- shared ----------------------------------------------------------------------------------

  /** The current record needs more bytes: remember progress, or start skipping it if it is too long. */
  private needMore(scannedTo: number): ScanStep {
    // Content is surely over the limit once more than max + 1 bytes (a final '\r' may be dropped)
    // are buffered without the record's end.
    if (this.buf.length - this.p > this.opts.maxLineBytes + 1) {
      if (this.opts.csv && this.firstNlRel >= 0) return this.cutAtFirstLine();
      this.skipping = { offset: this.bufOffset + this.p, line: this.line };
      this.resetRecordState();
      return this.continueSkipping();
    }
    this.scanRel = scannedTo - this.p;
    return 'more';
  }

  private continueSkipping(): ScanStep {
    const s = this.skipping!;
    const b = this.buf;
    const nl = b.indexOf(NL, this.p);
    if (nl === -1 && !this.ended) {
      this.p = b.length; // drop what was scanned: an over-long record is never buffered
      return 'more';
    }
    this.skipping = undefined;
    this.p = nl === -1 ? b.length : nl + 1;
    this.line = s.line + 1;
    return { offset: s.offset, line: s.line, raw: '', defect: tooLong(s.line, this.opts.maxLineBytes) };
  }

  private resetRecordState(): void {
    this.inRecord = false;
    this.scanRel = 0;
    this.inQuotes = false;
    this.plainLine = false;
    this.malformed = false;
    this.firstNlRel = -1;
  }

  /** Emits the record [p, contentEnd) and moves to `next`; `extraLines` = newlines inside it. */
  private emit(contentEnd: number, next: number, extraLines: number): ScannedRecord {
    const b = this.buf;
    const start = this.p;
    let end = contentEnd;
    if (end > start && b[end - 1] === CR) end--;
    const line = this.line;
    const offset = this.bufOffset + start;
    this.resetRecordState();
    this.p = next;
    this.line = line + 1 + extraLines;
    if (end - start > this.opts.maxLineBytes) return { offset, line, raw: '', defect: tooLong(line, this.opts.maxLineBytes) };
    return { offset, line, raw: this.keepRaw ? b.toString('utf8', start, end) : '' };
  }
}

function tooLong(line: number, maxLineBytes: number): SourceRecordDefect {
  return { code: 'LINE_TOO_LONG', message: `Record at line ${line} is longer than the ${maxLineBytes}-byte limit (MAX_LINE_BYTES)` };
}

function countNewlines(b: Buffer, from: number, to: number): number {
  let count = 0;
  let i = b.indexOf(NL, from);
  while (i !== -1 && i < to) {
    count++;
    i = b.indexOf(NL, i + 1);
  }
  return count;
}

/**
 * Reads up to `pageSize` records from `stream` (opened at `cursor.offset`). `next` is the exact byte
 * offset and line of the following record (blank lines after the page are skipped, so `done` is exact).
 * The stream is destroyed when the page is complete.
 */
export async function readRecordPage(
  stream: Readable,
  cursor: SourceCursor,
  pageSize: number,
  opts: ScannerOptions,
): Promise<{ records: ScannedRecord[]; next: SourceCursor; done: boolean }> {
  const scanner = new RecordScanner(cursor, opts);
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const pull = async (): Promise<void> => {
    const r = await it.next();
    if (r.done) scanner.end();
    else scanner.feed(typeof r.value === 'string' ? Buffer.from(r.value) : r.value);
  };
  try {
    const records: ScannedRecord[] = [];
    let done = false;
    while (records.length < pageSize) {
      const step = scanner.next();
      if (step === 'more') await pull();
      else if (step === 'eof') {
        done = true;
        break;
      } else records.push(step);
    }
    while (!done) {
      const state = scanner.peek();
      if (state === 'more') await pull();
      else {
        done = state === 'eof';
        break;
      }
    }
    return { records, next: scanner.cursor, done };
  } finally {
    await it.return?.();
  }
}
