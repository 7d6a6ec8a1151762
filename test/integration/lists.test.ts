/**
 * Audiences as HubSpot lists (issue 14) end to end on real parts: API → Temporal dev server → worker →
 * HubSpot simulator. Lists are compared with what the simulator holds: each list must hold exactly the
 * record ids of the contacts its audience's realized/existing members are, by email, at that moment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { accountingError } from '../../src/delivery/counts';
import { audiencePropertyName } from '../../src/mapping/audience-property';
import { generateProfileObjects, SAMPLE_AUDIENCES, type SampleProfile } from '../../src/members/sample-profiles';
import { DEFAULT_SCOPES } from '../../src/hubspot-sim/types';
import { buildProgram } from '../../src/cli/main';
import { createDestination, startStack, TEST_API_KEY, type TestStack } from '../helpers/stack';
import { runAudiences, upsertCalls } from '../helpers/activation';

jest.setTimeout(600_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const LIST_SCOPES = [...DEFAULT_SCOPES, 'crm.lists.read', 'crm.lists.write'];
const audiences = SAMPLE_AUDIENCES.slice(0, 3).map((a) => ({ id: a.id, name: a.name, encoding: 'list' as const }));

function writeProfiles(name: string, profiles: SampleProfile[]): string {
  const file = path.join(stack.dataDir, 'samples', `${name}.ndjson`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, profiles.map((p) => JSON.stringify(p)).join('\n') + '\n');
  return file;
}

const emailOf = (p: SampleProfile) => (p.identityMap.Email.find((e) => e.primary) ?? p.identityMap.Email[0]).id.toLowerCase();
const inList = (p: SampleProfile, audienceId: string) =>
  ['realized', 'existing'].includes(p.segmentMembership.ups[audienceId]?.status ?? '');

const activate = (destinationId: string, file: string, auds: unknown[], options?: Record<string, boolean>) =>
  runAudiences(stack, destinationId, file, auds, options);

/** The list the service keeps for `audienceId`, as the run's summary names it, with its members in the simulator. */
function listOf(portalId: number, summary: { lists: Record<string, { listId: string }> }, audienceId: string) {
  const listId = summary.lists[audienceId].listId;
  const list = stack.sim.admin.lists(portalId).find((l) => l.listId === listId);
  expect(list).toBeDefined();
  return list!;
}

/** What the list must hold: the current record id of every realized/existing member of the audience. */
function expectedMembers(portalId: number, profiles: SampleProfile[], audienceId: string): string[] {
  const ids = profiles.filter((p) => inList(p, audienceId)).map((p) => stack.sim.admin.getContact(portalId, emailOf(p))!.id);
  return [...new Set(ids)].sort((a, b) => Number(a) - Number(b));
}

describe('a destination with 3 list-encoded audiences', () => {
  let destinationId: string;
  let portalId: number;
  const profiles = [...generateProfileObjects({ count: 400, seed: 14 })];
  const file = () => writeProfiles('lists-all', profiles);

  beforeAll(async () => {
    ({ destinationId, portalId } = await createDestination(stack, { account: { tier: 'pro', scopes: LIST_SCOPES } }));
  });

  test('one run leaves each list with exactly its members; no status property is written', async () => {
    const done = await activate(destinationId, file(), audiences);
    expect(done.status).toBe('completed');
    const s = done.summary;
    expect(accountingError(s)).toBeUndefined();
    for (const a of audiences) {
      const list = listOf(portalId, s, a.id);
      expect(list.name).toBe(a.name);
      expect(list.processingType).toBe('MANUAL');
      const expected = expectedMembers(portalId, profiles, a.id);
      expect(expected.length).toBeGreaterThan(20);
      expect(list.members).toEqual(expected);
      expect(s.lists[a.id]).toMatchObject({ added: expected.length, rejected: 0 });
    }
    // The Web UI's current details name each list with its id and counts.
    const meta = await stack.client.workflow
      .getHandle(done.activationId)
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    for (const a of audiences) {
      expect(meta.currentDetails).toContain(`List of \`${a.id}\``);
      expect(meta.currentDetails).toContain(`(list id ${s.lists[a.id].listId}) · added ${s.lists[a.id].added}`);
    }
    // list-only: the status properties are not written on contacts.
    const some = stack.sim.admin.getContact(portalId, emailOf(profiles.find((p) => inList(p, audiences[0].id))!))!;
    for (const a of audiences) expect(some.properties[audiencePropertyName(a.id)]).toBeUndefined();
  });

  test('a later snapshot with exitMissing removes exactly the leavers', async () => {
    const leavers = new Set(profiles.filter((_, i) => i % 5 === 0));
    const kept = profiles.filter((p) => !leavers.has(p));
    const before = Object.fromEntries(audiences.map((a) => [a.id, expectedMembers(portalId, profiles, a.id)]));
    const done = await activate(destinationId, writeProfiles('lists-kept', kept), audiences, { exitMissing: true });
    expect(done.status).toBe('completed');
    for (const a of audiences) {
      const list = listOf(portalId, done.summary, a.id);
      const expected = expectedMembers(portalId, kept, a.id);
      expect(list.members).toEqual(expected);
      const leaverIds = [...leavers].filter((p) => inList(p, a.id)).map((p) => stack.sim.admin.getContact(portalId, emailOf(p))!.id);
      expect(leaverIds.length).toBeGreaterThan(0);
      // Exactly the leavers left: the list before minus them is the list now.
      expect(before[a.id].filter((id) => !leaverIds.includes(id))).toEqual(list.members);
    }
    // Still list-only: writeExits wrote no status property.
    const leaver = [...leavers][0];
    for (const a of audiences)
      expect(stack.sim.admin.getContact(portalId, emailOf(leaver))!.properties[audiencePropertyName(a.id)]).toBeUndefined();
  });
});

test('merging 50 members’ contacts between two runs leaves every list exact, nothing rejected', async () => {
  const { destinationId, portalId, token } = await createDestination(stack, { account: { tier: 'pro', scopes: LIST_SCOPES } });
  const profiles = [...generateProfileObjects({ count: 300, seed: 41, membershipRates: [0.9, 0.6, 0.5] })];
  const file = writeProfiles('lists-merge', profiles);
  const both = audiences.map((a, i) => ({ ...a, encoding: i === 0 ? ('both' as const) : ('list' as const) }));
  const first = await activate(destinationId, file, both);
  expect(first.status).toBe('completed');

  // A HubSpot user merges 50 members' contacts into other contacts: the members' record ids stop answering.
  const members = profiles.filter((p) => audiences.some((a) => inList(p, a.id))).slice(0, 50);
  expect(members).toHaveLength(50);
  const api = (pathname: string, body: unknown) =>
    fetch(`${stack.sim.url}${pathname}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, data: (await r.json()) as { id: string } }));
  const oldIds: string[] = [];
  for (const [i, p] of members.entries()) {
    const oldId = stack.sim.admin.getContact(portalId, emailOf(p))!.id;
    oldIds.push(oldId);
    const primary = await api('/crm/v3/objects/contacts', { properties: { email: `merged-into-${i}@example.org` } });
    expect(primary.status).toBe(201);
    const merged = await api('/crm/v3/objects/contacts/merge', { primaryObjectId: primary.data.id, objectIdToMerge: oldId });
    expect(merged.status).toBe(200);
  }

  const second = await activate(destinationId, file, both);
  expect(second.status).toBe('completed');
  const s = second.summary;
  expect(s.rejected).toBe(0);
  let reResolved = 0;
  for (const a of audiences) {
    const list = listOf(portalId, s, a.id);
    expect(list.members).toEqual(expectedMembers(portalId, profiles, a.id));
    for (const id of oldIds) expect(list.members).not.toContain(id);
    expect(s.lists[a.id].rejected).toBe(0);
    reResolved += s.lists[a.id].reResolved;
  }
  // Unchanged members were not upserted again: their merged ids were found again by email.
  expect(reResolved).toBeGreaterThanOrEqual(50);
  // A full resync upserts every member again, the merged ones by what is now an additional email: the
  // merged contacts are updated and keep their primary email (docs/decisions.md 22); the lists stay exact.
  const third = await activate(destinationId, file, both, { fullResync: true });
  expect(third.status).toBe('completed');
  expect(third.summary.rejected).toBe(0);
  for (const [i, p] of members.entries()) {
    const c = stack.sim.admin.getContact(portalId, emailOf(p))!;
    expect(c.properties.email).toBe(`merged-into-${i}@example.org`);
    expect(c.properties.firstname).toBe(p.person.name.firstName);
  }
  for (const a of audiences) {
    expect(listOf(portalId, third.summary, a.id).members).toEqual(expectedMembers(portalId, profiles, a.id));
    expect(third.summary.lists[a.id].reResolved).toBe(0);
  }
  // The `both` audience keeps its status property too.
  const inFirst = profiles.find((p) => p.segmentMembership.ups[audiences[0].id])!;
  expect(stack.sim.admin.getContact(portalId, emailOf(inFirst))!.properties[audiencePropertyName(audiences[0].id)]).toBe(
    inFirst.segmentMembership.ups[audiences[0].id].status,
  );
});

test('a DYNAMIC list of the audience’s name is not written: ours gets the id-suffixed name', async () => {
  const { destinationId, portalId } = await createDestination(stack, { account: { tier: 'pro', scopes: LIST_SCOPES } });
  const theirs = stack.sim.admin.createList(portalId, { name: audiences[1].name, processingType: 'DYNAMIC' });
  const profiles = [...generateProfileObjects({ count: 80, seed: 7, membershipRates: [0.5, 0.9, 0.5] })];
  const done = await activate(destinationId, writeProfiles('lists-dynamic', profiles), [audiences[1]]);
  expect(done.status).toBe('completed');
  const ours = listOf(portalId, done.summary, audiences[1].id);
  expect(ours.name).toBe(`${audiences[1].name} (${audiences[1].id})`);
  expect(ours.listId).not.toBe(theirs.listId);
  expect(ours.members).toEqual(expectedMembers(portalId, profiles, audiences[1].id));
  expect(stack.sim.admin.lists(portalId).find((l) => l.listId === theirs.listId)!.members).toEqual([]);
  // A second run finds the stored list again (no third list).
  const again = await activate(destinationId, writeProfiles('lists-dynamic', profiles), [audiences[1]]);
  expect(again.summary.lists[audiences[1].id].listId).toBe(ours.listId);
  expect(stack.sim.admin.lists(portalId)).toHaveLength(2);
});

test('a create interrupted after HubSpot made the list: the next attempt adopts that list, not a suffixed one', async () => {
  const { destinationId, portalId } = await createDestination(stack, { account: { tier: 'pro', scopes: LIST_SCOPES } });
  const a = audiences[0];
  // What an attempt that stopped between HubSpot's answer and storing the id leaves behind.
  await stack.services.destinations.recordAudienceList({
    destinationId,
    audienceId: a.id,
    listId: '',
    listName: a.name,
    createdAt: new Date().toISOString(),
  });
  const made = stack.sim.admin.createList(portalId, { name: a.name, processingType: 'MANUAL' });
  const profiles = [...generateProfileObjects({ count: 30, seed: 9 })];
  const done = await activate(destinationId, writeProfiles('lists-resume', profiles), [a]);
  expect(done.status).toBe('completed');
  expect(done.summary.lists[a.id].listId).toBe(made.listId);
  expect(stack.sim.admin.lists(portalId)).toHaveLength(1);
  expect((await stack.services.destinations.audienceList(destinationId, a.id))?.listId).toBe(made.listId);
});

test('when both names are taken by lists that are not MANUAL, the run fails at setup, before anything is sent', async () => {
  const { destinationId, portalId } = await createDestination(stack, { account: { tier: 'pro', scopes: LIST_SCOPES } });
  const a = audiences[2];
  stack.sim.admin.createList(portalId, { name: a.name, processingType: 'DYNAMIC' });
  stack.sim.admin.createList(portalId, { name: `${a.name} (${a.id})`, processingType: 'SNAPSHOT' });
  const before = upsertCalls(stack);
  const done = await activate(destinationId, writeProfiles('lists-clash', [...generateProfileObjects({ count: 20, seed: 5 })]), [a]);
  expect(done.status).toBe('failed');
  expect(done.failure.type).toBe('HubSpotListConflict');
  expect(done.failure.message).toContain(`"${a.name} (${a.id})"`);
  expect(upsertCalls(stack)).toBe(before);
  expect(stack.sim.admin.contactCount(portalId)).toBe(0);
});

test('a token without the list scopes fails clearly before anything is sent', async () => {
  const { destinationId, portalId } = await createDestination(stack); // the four contact scopes only
  const profiles = [...generateProfileObjects({ count: 50, seed: 3 })];
  const before = upsertCalls(stack);
  const done = await activate(destinationId, writeProfiles('lists-noscope', profiles), [audiences[0]]);
  expect(done.status).toBe('failed');
  expect(done.failure.type).toBe('HubSpotMissingScopes');
  expect(done.failure.message).toContain('crm.lists.read, crm.lists.write');
  expect(upsertCalls(stack)).toBe(before);
  expect(stack.sim.admin.contactCount(portalId)).toBe(0);
  expect(stack.sim.admin.lists(portalId)).toEqual([]);
});

test('an unknown encoding is a 400 naming the field', async () => {
  const { destinationId } = await createDestination(stack, { account: { tier: 'pro', scopes: LIST_SCOPES } });
  const res = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/activations`,
    payload: { audiences: [{ ...audiences[0], encoding: 'tag' }], source: { path: '/nowhere.ndjson' } },
  });
  expect(res.statusCode).toBe(400);
  expect(res.body).toContain('encoding');
});

test('a dry run of a list-encoded audience creates no list and writes no membership, and counts the adds and removes', async () => {
  const { destinationId, portalId } = await createDestination(stack, { account: { tier: 'pro', scopes: LIST_SCOPES } });
  const profiles = [...generateProfileObjects({ count: 40, seed: 21 })];
  const done = await activate(destinationId, writeProfiles('lists-dry', profiles), [audiences[0]], { dryRun: true });
  expect(done.status).toBe('completed');
  expect(done.summary.lists).toBeUndefined();
  const statuses = profiles.map((p) => p.segmentMembership.ups[audiences[0].id]?.status).filter((s) => s !== undefined);
  expect(done.summary.plan).toMatchObject({
    listAdd: statuses.filter((s) => s !== 'exited').length,
    listRemove: statuses.filter((s) => s === 'exited').length,
  });
  expect(statuses.length).toBeGreaterThan(0);
  expect(stack.sim.admin.lists(portalId)).toEqual([]);
  expect(stack.sim.admin.contactCount(portalId)).toBe(0);
});

test('CLI: activate --encoding list keeps the audience as a HubSpot list', async () => {
  const { destinationId, portalId } = await createDestination(stack, { account: { tier: 'pro', scopes: LIST_SCOPES } });
  const profiles = [...generateProfileObjects({ count: 60, seed: 61 })];
  const file = writeProfiles('lists-cli', profiles);
  const url = await stack.api.listen({ host: '127.0.0.1', port: 0 });
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const a = audiences[1];
    await buildProgram()
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
        '--audience-id',
        a.id,
        '--audience-name',
        a.name,
        '--encoding',
        'list',
        '--path',
        file,
        '--wait',
      ]);
    const lists = stack.sim.admin.lists(portalId);
    expect(lists).toHaveLength(1);
    expect([...lists[0].members].sort((x, y) => Number(x) - Number(y))).toEqual(expectedMembers(portalId, profiles, a.id));
  } finally {
    log.mockRestore();
  }
});
