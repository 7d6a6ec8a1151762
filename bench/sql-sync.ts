/**
 * SQL source at scale (issue 13): 1,000,000 members in a PostgreSQL table (the local server, a throwaway
 * database), activated at a raised simulator limit, against the same members from an NDJSON file on
 * another destination. Each run has a fresh worker process, so its peak RSS is its own. Goals: worker RSS
 * ≤ 512 MB for the SQL run, and SQL throughput ÷ file throughput ≥ 0.9.
 */
import fs from 'node:fs';
import { createInterface } from 'node:readline';
import { Client as PgClient } from 'pg';
import type { SampleProfile } from '../src/members/sample-profiles';
import { createTempDatabase } from '../test/helpers/postgres';
import {
  activationTimes,
  BENCH_AUDIENCE,
  benchDestination,
  membersFile,
  peakRssMb,
  simContactCount,
  startBenchStack,
  type BenchStack,
} from './lib/harness';

const UNLIMITED = { tenSecondly: 1_000_000_000, daily: 1_000_000_000_000 };

export interface SqlScaleResult {
  members: number;
  sql: { wallSeconds: number; contactsPerSecond: number; workerPeakRssMb: number };
  file: { wallSeconds: number; contactsPerSecond: number; workerPeakRssMb: number };
  /** SQL throughput ÷ file throughput. */
  ratio: number;
  nothingLost: boolean;
}

/** Loads the NDJSON members into `members` (email primary key), 10,000 rows per INSERT. */
async function loadTable(pg: PgClient, file: string): Promise<number> {
  await pg.query(
    'CREATE TABLE members (email TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, city TEXT, country TEXT, status TEXT NOT NULL)',
  );
  let cols: string[][] = [[], [], [], [], [], []];
  const flush = async () => {
    if (!cols[0].length) return;
    await pg.query(
      'INSERT INTO members SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) ON CONFLICT DO NOTHING',
      cols,
    );
    cols = [[], [], [], [], [], []];
  };
  for await (const line of createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue;
    const p = JSON.parse(line) as SampleProfile;
    const email = (p.identityMap.Email.find((e) => e.primary) ?? p.identityMap.Email[0]).id;
    const values = [email, p.person.name.firstName, p.person.name.lastName, p.workAddress.city, p.workAddress.country];
    values.forEach((v, i) => cols[i].push(v));
    cols[5].push(p.segmentMembership.ups[BENCH_AUDIENCE.id].status);
    if (cols[0].length === 10_000) await flush();
  }
  await flush();
  await pg.query('ANALYZE members');
  return Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM members')).rows[0].n);
}

/** One activation on a fresh destination (unlimited account) with a fresh worker; its wall time and the worker's peak RSS. */
async function timedRun(stack: BenchStack, source: Record<string, unknown>, members: number) {
  for (const w of stack.workers.splice(0)) await w.kill('SIGTERM');
  await stack.startWorkers(1);
  const { destinationId, portalId } = await benchDestination(stack, { tier: 'enterprise' });
  await stack.sim.admin.put(`/accounts/${portalId}/limits`, UNLIMITED);
  const started = await stack.request('POST', `/v1/destinations/${destinationId}/activations`, { audience: BENCH_AUDIENCE, source });
  if (started.status !== 202) throw new Error(`activation: ${started.status} ${JSON.stringify(started.body)}`);
  const activationId = started.body.activationId as string;
  let end: { status: string; summary?: { received: number; upserted: number; rejected: number } };
  for (;;) {
    const a = await stack.request('GET', `/v1/activations/${activationId}`);
    if (['completed', 'completed_with_rejections', 'failed', 'cancelled'].includes(a.body.status)) {
      end = a.body;
      break;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  const t = await activationTimes(stack.client, activationId);
  const wall = (t.endMs - t.startMs) / 1000;
  const ok =
    end.status === 'completed' &&
    end.summary?.received === members &&
    end.summary.upserted === members &&
    (await simContactCount(stack, portalId)) === members;
  return {
    ok,
    figures: {
      wallSeconds: round(wall),
      contactsPerSecond: Math.round(members / wall),
      workerPeakRssMb: peakRssMb(stack.workers[0].child.pid!),
    },
  };
}

export async function benchSqlScale(members = 1_000_000, env: Record<string, string> = {}): Promise<SqlScaleResult> {
  const file = membersFile(members);
  const db = await createTempDatabase();
  const pg = new PgClient({ connectionString: db.url });
  await pg.connect();
  const stack = await startBenchStack(env);
  try {
    const rows = await loadTable(pg, file);
    const con = await stack.request('POST', '/v1/connections', { name: 'Benchmark', kind: 'postgres', url: db.url });
    if (con.status !== 201) throw new Error(`connection: ${con.status} ${JSON.stringify(con.body)}`);
    const query =
      'SELECT email, first_name AS "person.name.firstName", last_name AS "person.name.lastName", city AS "workAddress.city", country AS "workAddress.country", status FROM members';
    const fileRun = await timedRun(stack, { path: file }, members);
    const sqlRun = await timedRun(stack, { sql: { connectionId: con.body.id, query } }, rows);
    return {
      members,
      sql: sqlRun.figures,
      file: fileRun.figures,
      ratio: round(sqlRun.figures.contactsPerSecond / fileRun.figures.contactsPerSecond, 3),
      nothingLost: fileRun.ok && sqlRun.ok && rows === members,
    };
  } finally {
    await stack.stop();
    await pg.end();
    await db.drop();
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

if (require.main === module) {
  const members = Number(process.argv[2] ?? 1_000_000);
  benchSqlScale(members)
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
