/**
 * SQL sources end to end (issue 13) on real parts: PostgreSQL on 127.0.0.1:5432 (a throwaway database,
 * each test its own table), the API, the Temporal dev server, a worker in a child process (so one test can
 * kill -9 it) and the HubSpot simulator.
 */
import { Client as PgClient } from 'pg';
import { readPageSize } from '../../activities/process-pages';
import { accountingError } from '../../src/delivery/counts';
import { audiencePropertyName } from '../../src/mapping/audience-property';
import { getActivation, upsertCalls, waitForEnd } from '../helpers/activation';
import { createTempDatabase } from '../helpers/postgres';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(300_000);

const ACTIVATION_PAGE_SIZE = 400;
// Runs that use the change memory read pages CHANGE_PAGE_FACTOR times larger (docs/dataflows.md): 2,000 rows.
const PAGE_SIZE = readPageSize(ACTIVATION_PAGE_SIZE, false);
const AUDIENCE = { id: 'sql-vip', name: 'SQL VIP' };
const QUERY_COLUMNS = `email, first_name AS "person.name.firstName", last_name AS "person.name.lastName", city AS "workAddress.city"`;

let stack: TestStack;
let worker: WorkerProcess;
let db: { url: string; drop(): Promise<void> };
let pg: PgClient;
const roles: string[] = [];

beforeAll(async () => {
  db = await createTempDatabase();
  pg = new PgClient({ connectionString: db.url });
  await pg.connect();
  stack = await startStack({
    worker: false,
    env: { ACTIVATION_PAGE_SIZE: String(ACTIVATION_PAGE_SIZE), ACTIVATION_HEARTBEAT_TIMEOUT_MS: '5000' },
  });
  worker = await startWorkerProcess(stack.envVars);
  const res = await createConnection(db.url);
  if (res.statusCode !== 201) throw new Error(res.body);
  connectionId = res.json().id;
});
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await stack?.close();
  await pg?.end();
  await db?.drop();
  const admin = new PgClient({ connectionString: db.url.replace(/\/[^/]+$/, '/test') });
  await admin.connect();
  for (const r of roles) await admin.query(`DROP ROLE IF EXISTS ${r}`).catch(() => undefined);
  await admin.end();
});

/** A table of `count` members: user000001@example.com … with first/last name and city. */
async function memberTable(name: string, count: number): Promise<void> {
  await pg.query(`CREATE TABLE ${name} (email TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, city TEXT)`);
  await pg.query(
    `INSERT INTO ${name} SELECT 'user' || lpad(g::text, 6, '0') || '@example.com', 'First' || g, 'Last' || g, 'City' || (g % 50)
     FROM generate_series(1, $1) g`,
    [count],
  );
}

async function createConnection(url: string, name = 'Test database') {
  return stack.request({ method: 'POST', url: '/v1/connections', payload: { name, kind: 'postgres', url } });
}

async function activate(destinationId: string, sql: { connectionId: string; query: string; key?: string }): Promise<string> {
  const res = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/activations`,
    payload: { audiences: [AUDIENCE], source: { sql } },
  });
  if (res.statusCode !== 202) throw new Error(`activation start: ${res.statusCode} ${res.body}`);
  return res.json<{ activationId: string }>().activationId;
}

/** Attempts of every activity the run started (from its history): a non-retryable failure has only 1s. */
async function activityAttempts(activationId: string): Promise<number[]> {
  const history = await stack.client.workflow.getHandle(activationId).fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes)
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
}

let connectionId: string;

describe('connections', () => {
  test('a connection that cannot connect is a 422 saying why; a good one is saved sealed and shown without its password', async () => {
    const bad = await createConnection(db.url.replace(/\/[^/]+$/, '/no_such_database_13'));
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('SOURCE_CONNECTION_FAILED');
    expect(bad.json().error.message).toMatch(/no_such_database_13.*does not exist/);

    // Trust auth ignores the password, so the URL connects; it must never come back.
    const withPassword = db.url.replace(/^postgres:\/\/([^@]+)@/, 'postgres://$1:s3cret-pw@');
    const res = await createConnection(withPassword);
    expect(res.statusCode).toBe(201);
    const view = res.json();
    const id = view.id as string;
    expect(view.url).toBe(db.url);
    expect(res.body).not.toContain('s3cret-pw');
    const list = await stack.request({ method: 'GET', url: '/v1/connections' });
    expect(list.body).not.toContain('s3cret-pw');
    expect(list.json().items.map((c: { id: string }) => c.id)).toContain(id);
    const stored = await stack.services.db.query<{ sealed_url: string }>('SELECT * FROM source_connections WHERE id = $1', [id]);
    expect(JSON.stringify(stored)).not.toContain('s3cret-pw');
    expect(stored[0].sealed_url).toMatch(/^sealed:v1:/);
    // The worker's view: the sealed URL opens to the full one.
    expect((await stack.services.connections.resolve(id)).url).toContain(':s3cret-pw@');

    const renamed = await stack.request({ method: 'PATCH', url: `/v1/connections/${id}`, payload: { name: 'Warehouse' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Warehouse', url: db.url });
    const badUrl = await stack.request({ method: 'PATCH', url: `/v1/connections/${id}`, payload: { url: 'mysql://x@h/db' } });
    expect(badUrl.statusCode).toBe(422);
    expect((await stack.request({ method: 'DELETE', url: `/v1/connections/${id}` })).statusCode).toBe(204);
    expect((await stack.request({ method: 'GET', url: `/v1/connections/${id}` })).statusCode).toBe(404);
  });
});

describe('a 20,000-row query', () => {
  let destinationId: string;
  let portalId: number;
  const ROWS = 20_000;

  test('lands exactly', async () => {
    await memberTable('members_20k', ROWS);
    ({ destinationId, portalId } = await createDestination(stack));
    const activationId = await activate(destinationId, { connectionId, query: `SELECT ${QUERY_COLUMNS} FROM members_20k` });
    const end = await waitForEnd(stack, activationId, 240_000);
    expect(end.status).toBe('completed');
    expect(accountingError(end.summary)).toBeUndefined();
    expect(end.summary).toMatchObject({ received: ROWS, upserted: ROWS, rejected: 0, skipped: 0 });
    expect(stack.sim.admin.contactCount(portalId)).toBe(ROWS);
    for (const g of [1, 2, 999, 1000, 1001, 7777, 19_999, 20_000]) {
      const email = `user${String(g).padStart(6, '0')}@example.com`;
      expect(stack.sim.admin.getContact(portalId, email)?.properties).toMatchObject({
        email,
        firstname: `First${g}`,
        lastname: `Last${g}`,
        city: `City${g % 50}`,
        [audiencePropertyName(AUDIENCE.id)]: 'realized',
      });
    }
  });

  test('a second run after 1% of the rows changed sends only those', async () => {
    await pg.query(`UPDATE members_20k SET city = 'Moved' WHERE (substr(email, 5, 6)::int) % 100 = 0`);
    const before = upsertCalls(stack);
    const activationId = await activate(destinationId, { connectionId, query: `SELECT ${QUERY_COLUMNS} FROM members_20k` });
    const end = await waitForEnd(stack, activationId, 240_000);
    expect(end.status).toBe('completed');
    expect(end.summary).toMatchObject({ received: ROWS, upserted: ROWS / 100, skipped: ROWS - ROWS / 100 });
    expect(end.summary.skippedByReason).toEqual({ UNCHANGED: ROWS - ROWS / 100 });
    // One changed row in every batch of 100 read: at most one upsert call per batch, carrying only it.
    expect(upsertCalls(stack) - before).toBeLessThanOrEqual(ROWS / 100);
    expect(stack.sim.admin.getContact(portalId, 'user000100@example.com')?.properties.city).toBe('Moved');
    expect(stack.sim.admin.getContact(portalId, 'user000101@example.com')?.properties.city).toBe('City1');
  });
});

describe('a run that cannot read its query fails once, non-retryably, saying what to fix', () => {
  let destinationId: string;
  beforeAll(async () => {
    ({ destinationId } = await createDestination(stack));
    await memberTable('members_small', 50);
  });

  async function failure(sql: { connectionId: string; query: string; key?: string }) {
    const activationId = await activate(destinationId, sql);
    const end = await waitForEnd(stack, activationId);
    expect(end.status).toBe('failed');
    expect((await activityAttempts(activationId)).every((a) => a === 1)).toBe(true);
    return end.failure as { type: string; message: string };
  }

  test('a query error', async () => {
    const f = await failure({ connectionId, query: 'SELECT email, no_such_column FROM members_small' });
    expect(f.type).toBe('SqlQueryInvalid');
    expect(f.message).toMatch(/no_such_column/);
    const syntax = await failure({ connectionId, query: 'SELECT email FROM members_small WHERE' });
    expect(syntax.type).toBe('SqlQueryInvalid');
    expect(syntax.message).toMatch(/syntax error/);
  });

  test('a query without an email column, or without a unique key', async () => {
    const f = await failure({ connectionId, query: 'SELECT first_name FROM members_small' });
    expect(f.type).toBe('SqlQueryInvalid');
    expect(f.message).toMatch(/no 'email' column/);
    const dup = await failure({ connectionId, query: 'SELECT email FROM members_small UNION ALL SELECT email FROM members_small' });
    expect(dup.message).toMatch(/must be unique/);
  });

  test('a dropped table', async () => {
    await memberTable('members_dropped', 10);
    await pg.query('DROP TABLE members_dropped');
    const f = await failure({ connectionId, query: `SELECT ${QUERY_COLUMNS} FROM members_dropped` });
    expect(f.type).toBe('SqlQueryInvalid');
    expect(f.message).toMatch(/does not exist \(dropped or renamed\?\)/);
  });

  test('a revoked connection: the role lost its login, or its grant; a deleted connection', async () => {
    const role = `sync_reader_${Date.now().toString(36)}`;
    roles.push(role);
    await pg.query(`CREATE ROLE ${role} LOGIN`);
    await pg.query(`GRANT SELECT ON members_small TO ${role}`);
    const res = await createConnection(db.url.replace(/^postgres:\/\/[^@]+@/, `postgres://${role}@`), 'Reader');
    expect(res.statusCode).toBe(201);
    const readerId = res.json().id as string;
    const query = `SELECT ${QUERY_COLUMNS} FROM members_small`;

    await pg.query(`REVOKE SELECT ON members_small FROM ${role}`);
    const noGrant = await failure({ connectionId: readerId, query });
    expect(noGrant.type).toBe('SourceConnectionFailed');
    expect(noGrant.message).toMatch(/GRANT SELECT/);

    // Revoking a login: new sessions are refused; a DBA ends the open ones (the worker's pool then reconnects).
    await pg.query(`ALTER ROLE ${role} NOLOGIN`);
    await pg.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    await new Promise((r) => setTimeout(r, 1000));
    const noLogin = await failure({ connectionId: readerId, query });
    expect(noLogin.type).toBe('SourceConnectionFailed');
    expect(noLogin.message).toMatch(/not permitted to log in/);

    // A run whose connection is deleted under it fails (on the login or on the missing connection); a new one cannot start.
    const activationId = await activate(destinationId, { connectionId: readerId, query });
    expect((await stack.request({ method: 'DELETE', url: `/v1/connections/${readerId}` })).statusCode).toBe(204);
    const end = await waitForEnd(stack, activationId);
    expect(end.status).toBe('failed');
    expect(['SourceConnectionFailed', 'SourceConnectionNotFound']).toContain(end.failure.type);
    const again = await stack.request({
      method: 'POST',
      url: `/v1/destinations/${destinationId}/activations`,
      payload: { audiences: [AUDIENCE], source: { sql: { connectionId: readerId, query } } },
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('SOURCE_CONNECTION_NOT_FOUND');
  });

  test('a write attempt is refused, and nothing is written', async () => {
    const del = await failure({ connectionId, query: 'DELETE FROM members_small' });
    expect(del.type).toBe('SqlWriteRefused');
    const cte = await failure({ connectionId, query: 'WITH gone AS (DELETE FROM members_small RETURNING email) SELECT email FROM gone' });
    expect(cte.type).toBe('SqlWriteRefused');
    // A function that writes, called by a SELECT: the READ ONLY transaction refuses it.
    await pg.query('CREATE FUNCTION purge_members() RETURNS int AS $$ DELETE FROM members_small; SELECT 1 $$ LANGUAGE sql');
    const fn = await failure({ connectionId, query: 'SELECT email FROM members_small WHERE purge_members() = 1' });
    expect(fn.type).toBe('SqlWriteRefused');
    expect(fn.message).toMatch(/read-only transaction/);
    expect((await pg.query('SELECT count(*)::int AS n FROM members_small')).rows[0].n).toBe(50);
  });
});

test('kill -9 of the worker mid-query: the run completes with the exact state, its pages resumed by key', async () => {
  const ROWS = 6000;
  await memberTable('members_kill', ROWS);
  const { destinationId, portalId } = await createDestination(stack);
  stack.sim.admin.setLimits(portalId, { tenSecondly: 20 }); // a run long enough to be interrupted
  const activationId = await activate(destinationId, { connectionId, query: `SELECT ${QUERY_COLUMNS} FROM members_kill` });

  await waitFor(async () => ((await getActivation(stack, activationId)).progress?.counts?.received ?? 0) >= 2 * PAGE_SIZE, {
    what: 'two pages delivered',
    timeoutMs: 120_000,
  });
  await worker.kill('SIGKILL');
  // Where the killed page run will resume: its checkpoint names the key of the last row delivered.
  const checkpoints = await stack.services.db.query<{ run_offset: string | number; checkpoint_json: string }>(
    'SELECT run_offset, checkpoint_json FROM activation_checkpoints WHERE activation_id = $1',
    [activationId],
  );
  const resumeAt = checkpoints.map((c) => (JSON.parse(c.checkpoint_json) as { cursor: { offset: number; after?: string } }).cursor);
  expect(resumeAt.some((c) => c.offset >= PAGE_SIZE && /^user\d{6}@example\.com$/.test(c.after ?? ''))).toBe(true);

  worker = await startWorkerProcess(stack.envVars);
  const end = await waitForEnd(stack, activationId, 240_000);
  expect(end.status).toBe('completed');
  expect(accountingError(end.summary)).toBeUndefined();
  expect(end.summary).toMatchObject({ received: ROWS, rejected: 0 });
  // A batch confirmed just before the kill but not yet checkpointed is found UNCHANGED on resume (docs/dataflows.md).
  expect(end.summary.upserted + (end.summary.skippedByReason.UNCHANGED ?? 0)).toBe(ROWS);
  expect(end.summary.skippedByReason.UNCHANGED ?? 0).toBeLessThanOrEqual(PAGE_SIZE);
  expect(stack.sim.admin.contactCount(portalId)).toBe(ROWS);
  for (const g of [1, PAGE_SIZE, PAGE_SIZE + 1, 2 * PAGE_SIZE + 1, ROWS]) {
    const email = `user${String(g).padStart(6, '0')}@example.com`;
    expect(stack.sim.admin.getContact(portalId, email)?.properties).toMatchObject({ email, firstname: `First${g}`, city: `City${g % 50}` });
  }
});
