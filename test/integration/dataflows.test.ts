/**
 * Change-driven dataflows end to end (issue 12) on real parts: API → Temporal dev server → worker →
 * HubSpot simulator. Several audiences in one pass; what is upserted is counted from the simulator's
 * request stats.
 */
import fs from 'node:fs';
import path from 'node:path';
import { accountingError } from '../../src/delivery/counts';
import { audiencePropertyName } from '../../src/mapping/audience-property';
import { generateProfileObjects, SAMPLE_AUDIENCES, type SampleProfile } from '../../src/members/sample-profiles';
import { buildProgram } from '../../src/cli/main';
import { runAudiences } from '../helpers/activation';
import { createDestination, startStack, TEST_API_KEY, type TestStack } from '../helpers/stack';

jest.setTimeout(300_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const audiences = SAMPLE_AUDIENCES.slice(0, 3).map((a) => ({ id: a.id, name: a.name }));

function writeProfiles(file: string, profiles: SampleProfile[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, profiles.map((p) => JSON.stringify(p)).join('\n') + '\n');
}

const emailOf = (p: SampleProfile) => (p.identityMap.Email.find((e) => e.primary) ?? p.identityMap.Email[0]).id.toLowerCase();
const isMember = (p: SampleProfile) => audiences.some((a) => p.segmentMembership.ups[a.id]);

/** Upserted contacts (inputs sent) are not in the stats; batch upsert calls answered 200/207 are. */
function upsertCalls(): number {
  const byRoute = stack.sim.admin.stats().byRoute;
  let n = 0;
  for (const [route, byStatus] of Object.entries(byRoute))
    if (route.includes('batch/upsert')) for (const count of Object.values(byStatus)) n += count;
  return n;
}

const activate = (destinationId: string, file: string, options?: Record<string, boolean>) =>
  runAudiences(stack, destinationId, file, audiences, options, 240_000);

test('a 3-audience run writes every listed status in one upsert per contact', async () => {
  const profiles = [...generateProfileObjects({ count: 600, seed: 12 })];
  // Every 10th profile is only in an audience this run does not list.
  profiles.forEach((p, i) => {
    if (i % 10 === 0) p.segmentMembership.ups = { 'other-audience': { status: 'realized', lastQualificationTime: p.timestamp } };
  });
  const members = profiles.filter(isMember);
  const file = path.join(stack.dataDir, 'samples', 'three-audiences.ndjson');
  writeProfiles(file, profiles);
  const { destinationId, portalId } = await createDestination(stack);
  const before = upsertCalls();

  const done = await activate(destinationId, file);
  expect(done.status).toBe('completed');
  expect(done.audiences).toEqual(audiences);
  const s = done.summary;
  expect(accountingError(s)).toBeUndefined();
  expect(s.received).toBe(600);
  expect(s.upserted).toBe(members.length);
  expect(members.length).toBeLessThan(600);
  expect(s.skippedByReason).toEqual({ NOT_IN_AUDIENCE: 600 - members.length });
  for (const a of audiences) {
    const inA = profiles.filter((p) => p.segmentMembership.ups[a.id]);
    expect(s.byAudience[a.id].members).toBe(inA.length);
  }
  // One pass: no more batch calls than a one-audience run of the members would make.
  expect(upsertCalls() - before).toBeLessThanOrEqual(Math.ceil(members.length / 100) + 1);

  const admin = stack.sim.admin;
  expect(admin.contactCount(portalId)).toBe(members.length);
  for (const p of members) {
    const c = admin.getContact(portalId, emailOf(p))!;
    expect(c).toBeDefined();
    for (const a of audiences) {
      const status = p.segmentMembership.ups[a.id]?.status;
      expect(c.properties[audiencePropertyName(a.id)]).toBe(status);
    }
  }
  for (const a of audiences) expect(admin.listProperties(portalId).some((x) => x.name === audiencePropertyName(a.id))).toBe(true);
});

describe('bad audience lists get a 4xx', () => {
  let destinationId: string;
  beforeAll(async () => {
    ({ destinationId } = await createDestination(stack));
  });
  const post = (payload: unknown) =>
    stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/activations`, payload: payload as Record<string, unknown> });
  const source = { path: '/nowhere.ndjson' };

  test('more than 50 audiences', async () => {
    const many = Array.from({ length: 51 }, (_, i) => ({ id: `aud-${i}`, name: `A ${i}` }));
    expect((await post({ audiences: many, source })).statusCode).toBe(400);
  });
  test('duplicate ids', async () => {
    const res = await post({ audiences: [audiences[0], { ...audiences[0], name: 'again' }], source });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('listed twice');
  });
  test('an empty list', async () => {
    expect((await post({ audiences: [], source })).statusCode).toBe(400);
  });
  test('an id that is not a plain id', async () => {
    expect((await post({ audiences: [{ id: '__proto__', name: 'x' }], source })).statusCode).toBe(400);
  });
  test('both audience and audiences', async () => {
    expect((await post({ audience: audiences[0], audiences, source })).statusCode).toBe(400);
  });
});

test('only changes are sent: an identical run sends nothing, changed profiles exactly, fullResync everything', async () => {
  const profiles = [...generateProfileObjects({ count: 500, seed: 21 })];
  const file = path.join(stack.dataDir, 'samples', 'changes.ndjson');
  writeProfiles(file, profiles);
  const { destinationId, portalId } = await createDestination(stack);
  const members = profiles.filter(isMember);

  const first = await activate(destinationId, file);
  expect(first.status).toBe('completed');
  expect(first.summary.upserted).toBe(members.length);
  expect(await stack.services.contactMemory.count(destinationId)).toBe(members.length);

  // The same snapshot again: every member is UNCHANGED, HubSpot gets no upsert at all.
  let before = upsertCalls();
  const again = await activate(destinationId, file);
  expect(again.status).toBe('completed');
  expect(accountingError(again.summary)).toBeUndefined();
  expect(again.summary.upserted).toBe(0);
  expect(again.summary.skippedByReason.UNCHANGED).toBe(members.length);
  expect(upsertCalls() - before).toBe(0);

  // Change an attribute of some members and a status of others: exactly those are sent.
  const renamed = members.filter((_, i) => i % 25 === 0);
  for (const p of renamed) p.workAddress.city = `${p.workAddress.city} Nord`;
  const restatused = members.filter((_, i) => i % 25 === 7);
  for (const p of restatused) {
    const id = audiences.find((a) => p.segmentMembership.ups[a.id])!.id;
    p.segmentMembership.ups[id].status = p.segmentMembership.ups[id].status === 'exited' ? 'realized' : 'exited';
  }
  writeProfiles(file, profiles);
  before = upsertCalls();
  const changed = await activate(destinationId, file);
  expect(changed.status).toBe('completed');
  expect(accountingError(changed.summary)).toBeUndefined();
  expect(changed.summary.upserted).toBe(renamed.length + restatused.length);
  expect(changed.summary.skippedByReason.UNCHANGED).toBe(members.length - renamed.length - restatused.length);
  expect(upsertCalls() - before).toBeLessThanOrEqual(Math.ceil(members.length / 100));
  for (const p of [...renamed, ...restatused]) {
    const c = stack.sim.admin.getContact(portalId, emailOf(p))!;
    expect(c.properties.city).toBe(p.workAddress.city);
    for (const a of audiences)
      if (p.segmentMembership.ups[a.id]) expect(c.properties[audiencePropertyName(a.id)]).toBe(p.segmentMembership.ups[a.id].status);
  }

  // fullResync ignores the memory: every member is sent again.
  const full = await activate(destinationId, file, { fullResync: true });
  expect(full.status).toBe('completed');
  expect(full.summary.upserted).toBe(members.length);
  expect(full.summary.skippedByReason.UNCHANGED).toBeUndefined();
});

test('exitMissing writes exited for members the snapshot no longer holds, in each audience they were in', async () => {
  const profiles = [...generateProfileObjects({ count: 400, seed: 33 })];
  const file = path.join(stack.dataDir, 'samples', 'exits.ndjson');
  writeProfiles(file, profiles);
  const { destinationId, portalId } = await createDestination(stack);
  const first = await activate(destinationId, file);
  expect(first.status).toBe('completed');

  const members = profiles.filter(isMember);
  const dropped = members.filter((_, i) => i % 20 === 3);
  const activeIn = (p: SampleProfile) =>
    audiences.filter((a) => ['realized', 'existing'].includes(p.segmentMembership.ups[a.id]?.status ?? '')).map((a) => a.id);
  const kept = profiles.filter((p) => !dropped.includes(p));
  writeProfiles(file, kept);
  const before = upsertCalls();
  const done = await activate(destinationId, file, { exitMissing: true });
  expect(done.status).toBe('completed');
  expect(accountingError(done.summary)).toBeUndefined();
  expect(done.summary.upserted).toBe(0);
  expect(upsertCalls() - before).toBe(0);
  expect(done.summary.exitsWritten).toBe(dropped.reduce((n, p) => n + activeIn(p).length, 0));
  for (const p of dropped) {
    const c = stack.sim.admin.getContact(portalId, emailOf(p))!;
    for (const a of audiences) {
      const was = p.segmentMembership.ups[a.id]?.status;
      expect(c.properties[audiencePropertyName(a.id)]).toBe(was === undefined ? undefined : activeIn(p).includes(a.id) ? 'exited' : was);
    }
  }
  // Recorded: the same snapshot again writes no exit.
  const again = await activate(destinationId, file, { exitMissing: true });
  expect(again.summary.exitsWritten).toBe(0);
});

test('CLI: activate --audiences-file runs several audiences in one pass, --wait prints unchanged and exits', async () => {
  const profiles = [...generateProfileObjects({ count: 120, seed: 44 })];
  const file = path.join(stack.dataDir, 'samples', 'cli-audiences.ndjson');
  writeProfiles(file, profiles);
  const list = path.join(stack.dataDir, 'audiences.csv');
  fs.writeFileSync(list, ['id,name', ...audiences.map((a) => `${a.id},${a.name}`)].join('\n') + '\n');
  const { destinationId } = await createDestination(stack);
  const url = await stack.api.listen({ host: '127.0.0.1', port: 0 });
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    out.push(args.join(' '));
  });
  const activate = (...extra: string[]) =>
    buildProgram()
      .exitOverride()
      .parseAsync([
        'node',
        'hubspot-destination',
        '--api-url',
        url,
        '--api-key',
        TEST_API_KEY,
        'activate',
        destinationId,
        '--audiences-file',
        list,
        '--path',
        file,
        '--wait',
        ...extra,
      ]);
  try {
    await activate();
    const members = profiles.filter(isMember).length;
    for (const a of audiences) expect(out.join('\n')).toContain(`${a.name} (${a.id})`);
    expect(out.join('\n')).toMatch(new RegExp(`upserted\\s+${members} `));
    out.length = 0;
    await activate('--exit-missing');
    expect(out.join('\n')).toMatch(new RegExp(`skipped: UNCHANGED\\s+${members}`));
    expect(out.join('\n')).toMatch(/exits written\s+0/);
  } finally {
    log.mockRestore();
  }
});
