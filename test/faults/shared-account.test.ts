/**
 * Fault test 6: two worker processes run activations for the same HubSpot account at once, sharing the
 * store through PostgreSQL (as on several hosts). HubSpot's highest 10-second window never exceeds the
 * account's limit and 429s stay under 1% of calls; both runs complete exactly.
 */
import fs from 'node:fs';
import { accountingError } from '../../src/delivery/counts';
import { SAMPLE_AUDIENCES } from '../../src/members/sample-profiles';
import { expectExactContacts, startActivation, waitForEnd, writeMembers } from '../helpers/activation';
import { createTempDatabase } from '../helpers/postgres';
import { createDestination, startStack, type TestStack } from '../helpers/stack';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(240_000);

const LIMIT = 30;
let stack: TestStack;
let pg: Awaited<ReturnType<typeof createTempDatabase>>;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  pg = await createTempDatabase();
  stack = await startStack({ worker: false, env: { DATABASE_URL: pg.url, ACTIVATION_UPSERT_CONCURRENCY: '4' } });
  workers = await Promise.all([startWorkerProcess(stack.envVars), startWorkerProcess(stack.envVars)]);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await stack?.close();
  await pg?.drop();
});

test('two workers, one account: never above the 10-second limit, 429s under 1%, both runs exact', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  stack.sim.admin.setLimits(portalId, { tenSecondly: LIMIT });
  stack.sim.admin.resetStats();
  // One generated population split in two (no email in both), the second half activated as audience B.
  const all = writeMembers(stack, 'shared', 5000, 61).profiles;
  const audienceB = SAMPLE_AUDIENCES[1];
  const a = { profiles: all.slice(0, 2500), file: `${stack.dataDir}/samples/shared-a.ndjson` };
  const b = { profiles: all.slice(2500), file: `${stack.dataDir}/samples/shared-b.ndjson` };
  for (const p of b.profiles) p.segmentMembership.ups = { [audienceB.id]: p.segmentMembership.ups[SAMPLE_AUDIENCES[0].id] };
  for (const f of [a, b]) fs.writeFileSync(f.file, f.profiles.map((p) => JSON.stringify(p)).join('\n') + '\n');

  const [runA, runB] = await Promise.all([
    startActivation(stack, destinationId, { path: a.file }),
    startActivation(stack, destinationId, { path: b.file }, audienceB),
  ]);
  const [endA, endB] = await Promise.all([waitForEnd(stack, runA, 200_000), waitForEnd(stack, runB, 200_000)]);
  for (const end of [endA, endB]) {
    expect(end.status).toBe('completed');
    expect(accountingError(end.summary)).toBeUndefined();
    expect(end.summary).toMatchObject({ received: 2500, upserted: 2500 });
  }

  const stats = stack.sim.admin.stats();
  const portal = stats.portals[String(portalId)];
  expect(portal.maxRequestsIn10s).toBeLessThanOrEqual(LIMIT);
  expect(portal.rateLimited / portal.requests).toBeLessThan(0.01);
  // Both workers did part of the work (the budget was shared, not serialised on one worker).
  const histories = await Promise.all([runA, runB].map((id) => stack.client.workflow.getHandle(id).fetchHistory()));
  const identities = new Set(
    histories.flatMap((h) => (h.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.identity).filter(Boolean)),
  );
  expect(identities.size).toBe(2);
  expectExactContacts(stack, portalId, a.profiles, SAMPLE_AUDIENCES[0], { onlyThese: false });
  expectExactContacts(stack, portalId, b.profiles, audienceB, { onlyThese: false });
  const emails = new Set([...a.profiles, ...b.profiles].map((p) => p.identityMap.Email.find((e) => e.primary)!.id.toLowerCase()));
  expect(stack.sim.admin.contactCount(portalId)).toBe(emails.size);
});
