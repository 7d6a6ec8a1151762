/**
 * Generates the deterministic sample audience files (never committed):
 *   npx tsx scripts/generate-sample.ts --count 10000 --out data/samples/profiles.ndjson \
 *     [--seed 42] [--csv data/samples/members.csv --audience <audienceId>]
 * The CSV variant is a custom upload for one audience (default: the first sample audience).
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { SAMPLE_AUDIENCES, SAMPLE_CSV_COLUMNS, generateProfileObjects, profileCsvRow, profileToJson } from '../src/members/sample-profiles';

interface Args {
  count: number;
  seed: number;
  out: string;
  csv?: string;
  audience: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { count: 10_000, seed: 42, out: 'data/samples/profiles.ndjson', audience: SAMPLE_AUDIENCES[0].id };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const need = (): string => {
      if (value === undefined) throw new Error(`${flag} needs a value`);
      i++;
      return value;
    };
    switch (flag) {
      case '--count':
        args.count = Number(need());
        break;
      case '--seed':
        args.seed = Number(need());
        break;
      case '--out':
        args.out = need();
        break;
      case '--csv':
        args.csv = need();
        break;
      case '--audience':
        args.audience = need();
        break;
      case '--help':
        console.log('usage: generate-sample [--count N] [--seed S] [--out file.ndjson] [--csv file.csv --audience id]');
        process.exit(0);
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  if (!Number.isInteger(args.count) || args.count < 0) throw new Error('--count must be a non-negative integer');
  if (!Number.isInteger(args.seed)) throw new Error('--seed must be an integer');
  return args;
}

function open(file: string): WriteStream {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return createWriteStream(file);
}

/**
 * Encodes lines straight into a reused 4 MiB buffer: each line string dies young, which keeps the
 * garbage collector out of the way (joining thousands of lines first made GC the bottleneck).
 */
class LineWriter {
  private buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  private pos = 0;
  constructor(private readonly out: WriteStream) {}

  /** Returns a promise only when the buffer had to be flushed (avoids an await per line). */
  line(text: string): Promise<void> | undefined {
    const max = text.length * 3 + 1; // UTF-8 bound for a UTF-16 string
    if (this.pos + max > this.buf.length) return this.flush().then(() => this.append(text, max));
    this.append(text, max);
    return undefined;
  }

  private append(text: string, max: number): void {
    if (max > this.buf.length) this.buf = Buffer.allocUnsafe(max);
    this.pos += this.buf.write(text, this.pos);
    this.buf[this.pos++] = 10;
  }

  async flush(): Promise<void> {
    if (this.pos === 0) return;
    const chunk = Buffer.from(this.buf.subarray(0, this.pos)); // copy: the stream keeps it until written
    this.pos = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const ndjson = new LineWriter(open(args.out));
  const csv = args.csv ? new LineWriter(open(args.csv)) : undefined;
  if (csv) await csv.line(SAMPLE_CSV_COLUMNS.join(','));
  let csvCount = 0;
  for (const profile of generateProfileObjects({ count: args.count, seed: args.seed })) {
    const flushing = ndjson.line(profileToJson(profile));
    if (flushing) await flushing;
    if (csv) {
      const row = profileCsvRow(profile, args.audience);
      if (row !== undefined) {
        const f = csv.line(row);
        if (f) await f;
        csvCount++;
      }
    }
  }
  await ndjson.close();
  if (csv) await csv.close();
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`wrote ${args.count} profiles to ${args.out}${csv ? ` and ${csvCount} rows to ${args.csv}` : ''} in ${secs}s`);
  console.log(`audiences: ${SAMPLE_AUDIENCES.map((a) => `${a.id} (${a.name})`).join(', ')}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
