/**
 * Throughput and size of the confirmed-state memory (src/store/contact-memory.ts) on SQLite and
 * PostgreSQL, in batches of 100 (one HubSpot batch upsert): a first run (lookup misses, confirm inserts),
 * an unchanged run (lookup hits, markSeen of 99%), a changed run (lookup + confirm updates), the exits
 * scan (pageAbsentMembers over everything, 1% absent), and bytes per contact.
 *
 * Not part of `npm run bench` yet. `tsx bench/contact-memory.ts [--rows 100000] [--only sqlite|pg]`
 * (PostgreSQL at 127.0.0.1:5432, trust auth, a throwaway database).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprint } from '../src/dataflow/fingerprint';
import { SAMPLE_AUDIENCES } from '../src/members/sample-profiles';
import { SqlContactMemory, type ConfirmRow } from '../src/store/contact-memory';
import { openDb, type Db } from '../src/store/db';
import { migrate } from '../src/store/schema';
import { createMemoryKeyHasher } from '../src/streaming/email-hash';
import { createTempDatabase } from '../test/helpers/postgres';

const BATCH = 100;
const DEST = crypto.randomUUID();
const [A, B] = SAMPLE_AUDIENCES.map((a) => a.id);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function timed(rows: number, fn: () => Promise<void>): Promise<{ seconds: number; rowsPerSecond: number }> {
  const t0 = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds: Number(seconds.toFixed(2)), rowsPerSecond: Math.round(rows / seconds) };
}

async function storedBytes(db: Db): Promise<{ memory: number; seen: number }> {
  if (db.dialect === 'pg') {
    const r = await db.query<{ m: string; s: string }>(
      "SELECT pg_total_relation_size('memory_contacts') AS m, pg_total_relation_size('memory_seen') AS s",
    );
    return { memory: Number(r[0].m), seen: Number(r[0].s) };
  }
  const r = await db.query<{ name: string; bytes: number }>('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name');
  const sum = (prefix: string): number =>
    r.filter((x) => x.name.replace('sqlite_autoindex_', '').replace(/_\d+$/, '') === prefix).reduce((n, x) => n + x.bytes, 0);
  return { memory: sum('memory_contacts'), seen: sum('memory_seen') };
}

async function bench(db: Db, rows: number): Promise<Record<string, unknown>> {
  await migrate(db);
  const hash = createMemoryKeyHasher({ primaryId: 'k', keys: new Map([['k', crypto.randomBytes(32)]]) });
  const memory = new SqlContactMemory(db, hash);
  const keys = Array.from({ length: rows }, (_, i) => hash(DEST, `person${i}@example.com`));
  const confirmRow = (i: number, city: string): ConfirmRow => ({
    keyHash: keys[i],
    fingerprint: fingerprint({ firstname: `First${i}`, lastname: `Last${i}`, city, email_opt_in: 'true' }),
    recordId: String(100_000_000 + i),
    statuses: i % 2 ? { [A]: 'realized' } : { [A]: 'realized', [B]: 'existing' },
  });
  const batches = (fn: (ks: string[], from: number) => Promise<void>) => async () => {
    for (let from = 0; from < rows; from += BATCH) await fn(keys.slice(from, from + BATCH), from);
  };
  const confirmBatch = (city: string) =>
    batches(async (ks, from) => {
      await memory.lookup(DEST, ks);
      await memory.confirm(
        DEST,
        ks.map((_, j) => confirmRow(from + j, city)),
      );
    });

  const firstRun = await timed(rows, confirmBatch('Basel'));
  const unchangedLookup = await timed(
    rows,
    batches(async (ks) => void (await memory.lookup(DEST, ks))),
  );
  // 1% of the keys (every 100th) are left out of the snapshot.
  const markSeen = await timed(
    rows,
    batches((ks, from) =>
      memory.markSeen(
        DEST,
        'run-2',
        ks.filter((_, j) => (from + j) % 100 !== 0),
      ),
    ),
  );
  const changedRun = await timed(rows, confirmBatch('Bern'));
  let absent = 0;
  const exitsScan = await timed(rows, async () => {
    for (let after = ''; ;) {
      const page = await memory.pageAbsentMembers(DEST, [A, B], 'run-2', after, 500);
      if (page.length === 0) break;
      absent += page.length;
      after = page[page.length - 1].keyHash;
    }
  });
  const bytes = await storedBytes(db);
  await memory.endRun(DEST, 'run-2');
  return {
    rows,
    firstRunLookupConfirm: firstRun,
    unchangedRunLookup: unchangedLookup,
    markSeen,
    changedRunLookupConfirm: changedRun,
    exitsScan: { ...exitsScan, absentFound: absent },
    bytesPerContact: Math.round(bytes.memory / rows),
    seenSetBytesPerContact: Math.round(bytes.seen / rows),
    count: await memory.count(DEST),
  };
}

async function main(): Promise<void> {
  const rows = Number(arg('rows') ?? 100_000);
  const only = arg('only');
  const out: Record<string, unknown> = { machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`, batch: BATCH };
  if (only !== 'pg') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-contact-memory-'));
    const db = openDb({ sqlitePath: path.join(dir, 'store.db') });
    try {
      out.sqlite = await bench(db, rows);
    } finally {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  if (only !== 'sqlite') {
    const temp = await createTempDatabase();
    const db = openDb({ databaseUrl: temp.url, sqlitePath: '' });
    try {
      out.postgres = await bench(db, rows);
    } finally {
      await db.close();
      await temp.drop();
    }
  }
  console.log(JSON.stringify(out, null, 2));
}

void main();
