/**
 * Issue 12's crash acceptance: kill -9 of the worker process in the middle of a 3-audience snapshot run
 * (`exitMissing`), then a new worker. The final HubSpot state and the confirmed-state memory are exact:
 * every member holds its attributes and all its statuses, the memory holds one row per member with its
 * statuses, and an identical run then sends nothing. Then 1% changed and 1% dropped: exactly those are
 * sent, and the dropped ones get `exited` in each audience they were in.
 */
import fs from 'node:fs';
import path from 'node:path';
import { accountingError } from '../../src/delivery/counts';
import { audiencePropertyName } from '../../src/mapping/audience-property';
import { generateProfileObjects, SAMPLE_AUDIENCES, type SampleProfile } from '../../src/members/sample-profiles';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';
import { startAudiences, waitForEnd } from '../helpers/activation';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(300_000);

const audiences = SAMPLE_AUDIENCES.slice(0, 3).map((a) => ({ id: a.id, name: a.name }));
const ACTIVE = ['realized', 'existing'];

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({
    worker: false,
    env: { ACTIVATION_PAGE_SIZE: '500', ACTIVATION_HEARTBEAT_TIMEOUT_MS: '3000', ACTIVATION_UPSERT_CONCURRENCY: '2' },
  });
});
afterAll(async () => {
  await stack?.close();
});

const emailOf = (p: SampleProfile) => (p.identityMap.Email.find((e) => e.primary) ?? p.identityMap.Email[0]).id.toLowerCase();
const isMember = (p: SampleProfile) => audiences.some((a) => p.segmentMembership.ups[a.id]);
const activeIn = (p: SampleProfile) =>
  audiences.filter((a) => ACTIVE.includes(p.segmentMembership.ups[a.id]?.status ?? '')).map((a) => a.id);

function writeProfiles(file: string, profiles: SampleProfile[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, profiles.map((p) => JSON.stringify(p)).join('\n') + '\n');
}

function upsertCalls(): number {
  let n = 0;
  for (const [route, byStatus] of Object.entries(stack.sim.admin.stats().byRoute))
    if (route.includes('batch/upsert')) for (const count of Object.values(byStatus)) n += count;
  return n;
}

const start = (destinationId: string, file: string, options: Record<string, boolean>) =>
  startAudiences(stack, destinationId, file, audiences, options);

const end = (activationId: string) => waitForEnd(stack, activationId, 240_000);

/** HubSpot holds each member with its city and, per listed audience, `expected(p, audienceId)`. */
function expectHubSpot(
  portalId: number,
  profiles: SampleProfile[],
  expected: (p: SampleProfile, audienceId: string) => string | undefined,
) {
  for (const p of profiles) {
    const c = stack.sim.admin.getContact(portalId, emailOf(p));
    expect(c).toBeDefined();
    expect(c!.properties.city).toBe(p.workAddress.city);
    for (const a of audiences)
      expect([emailOf(p), a.id, c!.properties[audiencePropertyName(a.id)]]).toEqual([emailOf(p), a.id, expected(p, a.id)]);
  }
}

/** The memory holds one row per member, with every status it wrote. */
async function expectMemory(
  destinationId: string,
  profiles: SampleProfile[],
  expected: (p: SampleProfile, audienceId: string) => string | undefined,
) {
  expect(await stack.services.contactMemory.count(destinationId)).toBe(profiles.length);
  const hash = (p: SampleProfile) => stack.services.contactMemory.keyOf(destinationId, emailOf(p));
  for (let i = 0; i < profiles.length; i += 1000) {
    const part = profiles.slice(i, i + 1000);
    const rows = await stack.services.contactMemory.lookup(destinationId, part.map(hash));
    for (const p of part) {
      const row = rows.get(hash(p));
      expect(row?.fingerprint).toEqual(expect.any(String));
      const want: Record<string, string> = {};
      for (const a of audiences) if (expected(p, a.id) !== undefined) want[a.id] = expected(p, a.id)!;
      expect(row!.statuses).toEqual(want);
    }
  }
}

test('kill -9 mid-run, then 1% changed + 1% dropped: HubSpot and the memory stay exact', async () => {
  const profiles = [...generateProfileObjects({ count: 3000, seed: 77 })];
  const members = profiles.filter(isMember);
  const file = path.join(stack.dataDir, 'samples', 'dataflow-crash.ndjson');
  writeProfiles(file, profiles);
  let worker = await startWorkerProcess(stack.envVars);
  try {
    const { destinationId, portalId } = await createDestination(stack);
    // Slow enough (20 calls per 10 s) that the run is still sending when the worker dies.
    stack.sim.admin.setLimits(portalId, { tenSecondly: 20 });
    stack.sim.admin.resetStats();
    const first = await start(destinationId, file, { exitMissing: true });
    await waitFor(() => upsertCalls() >= 8, { timeoutMs: 120_000, what: 'the run under way' });
    await worker.kill('SIGKILL');
    expect(upsertCalls()).toBeLessThan(Math.ceil(members.length / 100));
    worker = await startWorkerProcess(stack.envVars);

    const done = await end(first);
    expect(done.status).toBe('completed');
    expect(accountingError(done.summary)).toBeUndefined();
    // Batches confirmed just before the kill but not yet checkpointed are found UNCHANGED on resume.
    expect(done.summary.upserted + (done.summary.skippedByReason.UNCHANGED ?? 0)).toBe(members.length);
    expect(done.summary.rejected).toBe(0);
    expect(done.summary.exitsWritten).toBe(0);
    const statusIn = (p: SampleProfile, id: string) => p.segmentMembership.ups[id]?.status;
    expect(stack.sim.admin.contactCount(portalId)).toBe(members.length);
    expectHubSpot(portalId, members, statusIn);
    await expectMemory(destinationId, members, statusIn);

    // The memory is exact: the same snapshot sends nothing.
    stack.sim.admin.setLimits(portalId, { tenSecondly: 190 });
    let before = upsertCalls();
    const same = await end(await start(destinationId, file, { exitMissing: true }));
    expect(same.status).toBe('completed');
    expect(same.summary.upserted).toBe(0);
    expect(same.summary.skippedByReason.UNCHANGED).toBe(members.length);
    expect(same.summary.exitsWritten).toBe(0);
    expect(upsertCalls() - before).toBe(0);

    // 1% of members changed, 1% dropped from the snapshot.
    const changed = members.filter((_, i) => i % 100 === 5);
    for (const p of changed) p.workAddress.city = `${p.workAddress.city} Sud`;
    const dropped = new Set(members.filter((_, i) => i % 100 === 50));
    writeProfiles(
      file,
      profiles.filter((p) => !dropped.has(p)),
    );
    before = upsertCalls();
    const next = await end(await start(destinationId, file, { exitMissing: true }));
    expect(next.status).toBe('completed');
    expect(accountingError(next.summary)).toBeUndefined();
    expect(next.summary.upserted).toBe(changed.length);
    expect(next.summary.skippedByReason.UNCHANGED).toBe(members.length - changed.length - dropped.size);
    // Changed contacts are batched per page (2,500 records here: 5 × ACTIVATION_PAGE_SIZE), not per source batch of 100.
    expect(upsertCalls() - before).toBeLessThanOrEqual(Math.ceil(profiles.length / 2500));
    const exits = [...dropped].reduce((n, p) => n + activeIn(p).length, 0);
    expect(next.summary.exitsWritten).toBe(exits);
    const finalStatus = (p: SampleProfile, id: string) => (dropped.has(p) && activeIn(p).includes(id) ? 'exited' : statusIn(p, id));
    expectHubSpot(portalId, members, finalStatus);
    await expectMemory(destinationId, members, finalStatus);
  } finally {
    await worker.kill('SIGKILL');
  }
});
