/**
 * Syncs on Temporal Schedules (issue 13) on the real dev server (its scheduler runs in real time, so
 * the schedule test waits for 15-second ticks), PostgreSQL on 127.0.0.1:5432 and the HubSpot simulator.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { waitForEnd } from '../helpers/activation';
import { createTempDatabase } from '../helpers/postgres';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(400_000);

const AUDIENCE = { id: 'sync-vip', name: 'Sync VIP' };
const COLUMNS = `email, first_name AS "person.name.firstName", city AS "workAddress.city"`;

let stack: TestStack;
let db: { url: string; drop(): Promise<void> };
let pg: PgClient;
let connectionId: string;

beforeAll(async () => {
  db = await createTempDatabase();
  pg = new PgClient({ connectionString: db.url });
  await pg.connect();
  stack = await startStack();
  const res = await stack.request({ method: 'POST', url: '/v1/connections', payload: { name: 'Local', kind: 'postgres', url: db.url } });
  if (res.statusCode !== 201) throw new Error(res.body);
  connectionId = res.json().id;
});
afterAll(async () => {
  await stack?.close();
  await pg?.end();
  await db?.drop();
});

async function table(name: string, count: number) {
  await pg.query(`CREATE TABLE ${name} (email TEXT PRIMARY KEY, first_name TEXT, city TEXT)`);
  await pg.query(`INSERT INTO ${name} SELECT 'm' || g || '@example.com', 'F' || g, 'C' || g FROM generate_series(1, $1) g`, [count]);
}

const get = async (url: string) => (await stack.request({ method: 'GET', url })).json();
const post = (url: string, payload?: Record<string, unknown>) => stack.request({ method: 'POST', url, ...(payload ? { payload } : {}) });
const describeSchedule = (id: string) => stack.client.schedule.getHandle(id).describe();

test('bad syncs are 4xx', async () => {
  const { destinationId } = await createDestination(stack);
  const base = {
    name: 'x',
    audiences: [AUDIENCE],
    source: { sql: { connectionId, query: 'SELECT email FROM t' } },
    schedule: { every: '1h' },
  };
  const url = `/v1/destinations/${destinationId}/syncs`;
  expect((await post(url, { ...base, schedule: { every: '5s' } })).statusCode).toBe(400);
  expect((await post(url, { ...base, schedule: { cron: 'every hour' } })).statusCode).toBe(400);
  expect((await post(url, { ...base, source: { uploadId: 'upl-1' } })).statusCode).toBe(400);
  const unknown = await post(url, { ...base, source: { sql: { connectionId: 'con-nope', query: 'SELECT email FROM t' } } });
  expect(unknown.statusCode).toBe(404);
  expect(unknown.json().error.code).toBe('SOURCE_CONNECTION_NOT_FOUND');
  expect((await post('/v1/destinations/dst-nope/syncs', base)).statusCode).toBe(404);
  // A connection a sync uses is not deleted.
  const made = await post(url, base);
  expect(made.statusCode).toBe(201);
  const del = await stack.request({ method: 'DELETE', url: `/v1/connections/${connectionId}` });
  expect(del.statusCode).toBe(409);
  expect((await stack.request({ method: 'DELETE', url: `/v1/syncs/${made.json().id}` })).statusCode).toBe(204);
});

test('a file on a schedule: a trigger runs it, a re-exported file sends only what changed', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  const file = path.join(stack.dataDir, 'sources', 'nightly.csv');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const rows = (city: (i: number) => string) =>
    ['email,person.name.firstName,workAddress.city', ...Array.from({ length: 40 }, (_, i) => `f${i}@example.com,N${i},${city(i)}`)].join(
      '\n',
    ) + '\n';
  fs.writeFileSync(
    file,
    rows(() => 'Paris'),
  );
  const made = await post(`/v1/destinations/${destinationId}/syncs`, {
    name: 'Nightly export',
    audiences: [AUDIENCE],
    source: { path: file },
    schedule: { cron: '0 3 * * *', timeZone: 'Europe/Paris' },
  });
  expect(made.statusCode).toBe(201);
  const syncId = made.json().id as string;
  expect(made.json().nextRunTimes.length).toBeGreaterThan(0);

  const first = await post(`/v1/syncs/${syncId}/trigger`);
  expect(first.statusCode).toBe(202);
  const end1 = await waitForEnd(stack, first.json().activationId);
  expect(end1.syncId).toBe(syncId);
  expect(end1.summary).toMatchObject({ received: 40, upserted: 40 });

  fs.writeFileSync(
    file,
    rows((i) => (i < 4 ? 'Lyon' : 'Paris')),
  );
  const second = await post(`/v1/syncs/${syncId}/trigger`);
  const end2 = await waitForEnd(stack, second.json().activationId);
  expect(end2.summary).toMatchObject({ received: 40, upserted: 4, skippedByReason: { UNCHANGED: 36 } });
  expect(stack.sim.admin.getContact(portalId, 'f3@example.com')?.properties.city).toBe('Lyon');

  // Triggered runs are found by SyncId like scheduled ones.
  const view = await waitFor(
    async () => {
      const v = await get(`/v1/syncs/${syncId}`);
      return v.recentRuns?.length >= 2 ? v : undefined;
    },
    { what: 'the runs in visibility' },
  );
  expect(view.recentRuns.map((r: { activationId: string }) => r.activationId).sort()).toEqual(
    [first.json().activationId, second.json().activationId].sort(),
  );
  expect((await stack.request({ method: 'DELETE', url: `/v1/syncs/${syncId}` })).statusCode).toBe(204);
});

test('{every: "15s"}: runs come, pause stops them, resume restarts them, overlap is buffered, delete removes the schedule', async () => {
  await table('sync_members', 30);
  const { destinationId, portalId } = await createDestination(stack);
  const made = await post(`/v1/destinations/${destinationId}/syncs`, {
    name: 'Every 15 s',
    audiences: [AUDIENCE],
    source: { sql: { connectionId, query: `SELECT ${COLUMNS} FROM sync_members` } },
    schedule: { every: '15s' },
  });
  expect(made.statusCode).toBe(201);
  const syncId = made.json().id as string;

  const desc = await describeSchedule(syncId);
  expect(desc.policies.overlap).toBe('BUFFER_ONE');
  expect(desc.policies.catchupWindow).toBe(3_600_000);
  expect(desc.memo).toMatchObject({ destinationId, audiences: [AUDIENCE.id] });
  expect(desc.action.workflowType).toBe('activateAudience');

  // Scheduled runs are ordinary activations: id `<sync id>-<time>`, findable by SyncId, re-runnable.
  const firstRun = await waitFor(
    async () => {
      const d = await describeSchedule(syncId);
      return d.info.recentActions[0]?.action.workflow.workflowId;
    },
    { what: 'the first scheduled run', timeoutMs: 60_000 },
  );
  expect(firstRun.startsWith(`${syncId}-`)).toBe(true);
  const end = await waitForEnd(stack, firstRun);
  expect(end.status).toBe('completed');
  expect(end.syncId).toBe(syncId);
  expect(end.summary).toMatchObject({ received: 30, upserted: 30 });
  expect(stack.sim.admin.contactCount(portalId)).toBe(30);
  const rerun = await post(`/v1/activations/${firstRun}/rerun`, { mode: 'all' });
  expect(rerun.statusCode).toBe(202);
  const rerunEnd = await waitForEnd(stack, rerun.json().activationId);
  expect(rerunEnd.summary).toMatchObject({ received: 30, skippedByReason: { UNCHANGED: 30 } });

  // Pause: no run starts for longer than an interval.
  const paused = await post(`/v1/syncs/${syncId}/pause`);
  expect(paused.json().paused).toBe(true);
  const takenAtPause = (await describeSchedule(syncId)).info.numActionsTaken;
  await new Promise((r) => setTimeout(r, 20_000));
  expect((await describeSchedule(syncId)).info.numActionsTaken).toBe(takenAtPause);

  // Resume: runs come again.
  expect((await post(`/v1/syncs/${syncId}/resume`)).json().paused).toBe(false);
  await waitFor(async () => (await describeSchedule(syncId)).info.numActionsTaken > takenAtPause, {
    what: 'a run after resume',
    timeoutMs: 60_000,
  });

  // Overlap: a query slower than the interval. The next tick waits (buffered, one at most), never runs beside it.
  const slow = await stack.request({
    method: 'PATCH',
    url: `/v1/syncs/${syncId}`,
    payload: { source: { sql: { connectionId, query: `SELECT ${COLUMNS} FROM sync_members, (SELECT pg_sleep(20)) AS slow` } } },
  });
  expect(slow.statusCode).toBe(200);
  const overlapStart = (await describeSchedule(syncId)).info.numActionsSkippedOverlap;
  await waitFor(
    async () => {
      const d = await describeSchedule(syncId);
      expect(d.info.runningActions.length).toBeLessThanOrEqual(1);
      return d.info.numActionsSkippedOverlap > overlapStart;
    },
    { what: 'a tick skipped while one waits', timeoutMs: 180_000, intervalMs: 1000 },
  );
  const runs = (await describeSchedule(syncId)).info.recentActions.map((a) => a.action.workflow.workflowId);
  const closed = await Promise.all(runs.map(async (id) => stack.client.workflow.getHandle(id).describe()));
  // Runs never overlap: each started after the one before it closed (or is still the only one running).
  const byStart = closed.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  for (let i = 1; i < byStart.length; i++) {
    const prevClose = byStart[i - 1].closeTime;
    expect(prevClose).toBeDefined();
    expect(byStart[i].startTime.getTime()).toBeGreaterThanOrEqual(prevClose!.getTime());
  }

  // Delete: the Temporal Schedule is gone and so is the sync.
  expect((await stack.request({ method: 'DELETE', url: `/v1/syncs/${syncId}` })).statusCode).toBe(204);
  await expect(describeSchedule(syncId)).rejects.toBeInstanceOf(ScheduleNotFoundError);
  expect((await stack.request({ method: 'GET', url: `/v1/syncs/${syncId}` })).statusCode).toBe(404);
  // Let the runs under way end before the stack stops.
  for (const c of closed)
    if (!c.closeTime)
      await stack.client.workflow
        .getHandle(c.workflowId)
        .terminate('test over')
        .catch(() => undefined);
});
