/**
 * ListMembershipWriter on real parts: the HubSpot client against the simulator, the confirmed-state
 * memory and the rejection store on SQLite. Calls stay within the per-call id limit; ids HubSpot reports
 * missing (merged, archived) are found again by email or merged id and retried once; what cannot be found
 * is a stored rejection, never dropped.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListMembershipWriter, LIST_MEMBER_NOT_FOUND, type ListMember } from '../../../src/delivery/list-memberships';
import { HubSpotClient } from '../../../src/hubspot/client';
import { startHubSpotSimulator, type RunningSimulator } from '../../../src/hubspot-sim';
import { DEFAULT_SCOPES } from '../../../src/hubspot-sim/types';
import { createSealer } from '../../../src/secrets/sealer';
import { SqlContactMemory } from '../../../src/store/contact-memory';
import { openDb, type Db } from '../../../src/store/db';
import { SqlRejectionStore } from '../../../src/store/rejections';
import { migrate } from '../../../src/store/schema';
import { fingerprint } from '../../../src/dataflow/fingerprint';
import { createMemoryKeyHasher } from '../../../src/streaming/email-hash';

const ring = { primaryId: 'k1', keys: new Map([['k1', crypto.randomBytes(32)]]) };
const hash = createMemoryKeyHasher(ring);
const DEST = 'dst_lists';
const ACT = 'act_lists';

let sim: RunningSimulator;
let db: Db;
let dir: string;
let memory: SqlContactMemory;
let rejections: SqlRejectionStore;
beforeAll(async () => {
  sim = await startHubSpotSimulator({ port: 0 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'list-writer-'));
  db = openDb({ sqlitePath: path.join(dir, 'store.db') });
  await migrate(db);
  memory = new SqlContactMemory(db, hash);
  rejections = new SqlRejectionStore(db, createSealer(ring));
});
afterAll(async () => {
  await sim.close();
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function setUp(n: number) {
  const account = sim.admin.createAccount({ tier: 'pro', scopes: [...DEFAULT_SCOPES, 'crm.lists.read', 'crm.lists.write'] });
  const calls: string[] = [];
  const client = new HubSpotClient({
    baseUrl: sim.url,
    token: account.token,
    onCall: (e) => calls.push(`${e.method} ${e.route}`),
  });
  const members: ListMember[] = [];
  for (let i = 0; i < n; i += 100) {
    const part = Array.from({ length: Math.min(100, n - i) }, (_, j) => `p${i + j}@example.com`);
    const res = await client.batchUpsertContacts(part.map((email) => ({ email, properties: { email } })));
    for (const r of res.results) {
      const email = r.email!;
      members.push({
        recordId: r.id,
        keyHash: hash(DEST, email),
        email,
        line: Number(email.slice(1, email.indexOf('@'))) + 1,
        record: { line: 1, format: 'xdm-ndjson', raw: JSON.stringify({ email }) },
      });
    }
  }
  members.sort((a, b) => a.line! - b.line!);
  await memory.confirm(
    DEST,
    members.map((m) => ({ keyHash: m.keyHash, fingerprint: fingerprint({ n: m.keyHash }), recordId: m.recordId })),
  );
  const list = await client.createList({ name: `L${account.portalId}`, objectTypeId: '0-1', processingType: 'MANUAL' });
  const writer = (maxIds: number, onLeaversSettled?: (k: string[]) => Promise<void>) =>
    new ListMembershipWriter({
      client,
      listId: list.listId,
      listName: list.name,
      audienceId: 'aud1',
      activationId: ACT + account.portalId,
      destinationId: DEST,
      memory,
      rejections,
      maxIds,
      ...(onLeaversSettled ? { onLeaversSettled } : {}),
    });
  const listed = () => sim.admin.lists(account.portalId).find((l) => l.listId === list.listId)!.members;
  return { account, client, members, writer, listed, calls, activationId: ACT + account.portalId };
}

test('adds and removes go out in calls of at most maxIds ids, one add-and-remove when both are pending', async () => {
  const { members, writer, listed, calls } = await setUp(250);
  const w = writer(100);
  for (const m of members) await w.add(m);
  await w.flush();
  expect(listed()).toEqual(members.map((m) => m.recordId).sort((a, b) => Number(a) - Number(b)));
  expect(calls.filter((c) => c.includes('/memberships/add')).length).toBe(3);

  const w2 = writer(100);
  for (const m of members.slice(0, 60)) await w2.remove(m);
  for (const m of members.slice(60, 100)) await w2.add(m);
  await w2.flush();
  expect(calls.filter((c) => c.endsWith('/memberships/add-and-remove'))).toHaveLength(1);
  expect(listed()).toHaveLength(190);
  expect(w2.counts).toEqual({ added: 40, removed: 60, reResolved: 0, rejected: 0, gone: 0 });
});

test('merged members are found again by email (primary or additional) and retried once; the memory learns the new id', async () => {
  const { account, client, members, writer, listed } = await setUp(20);
  // Merge p0 into p1 (p1 keeps its id) and p2 into a fresh contact.
  sim.admin.mergeContacts(account.portalId, members[1].recordId, members[0].recordId);
  const fresh = await client.batchUpsertContacts([{ email: 'fresh@example.com', properties: {} }]);
  sim.admin.mergeContacts(account.portalId, fresh.results[0].id, members[2].recordId);
  const w = writer(1000);
  for (const m of members) await w.add(m);
  await w.flush();
  expect(w.counts).toMatchObject({ added: 20, reResolved: 2, rejected: 0 });
  const expected = [...new Set([...members.slice(1).map((m) => m.recordId), fresh.results[0].id])].filter(
    (id) => id !== members[2].recordId,
  );
  expect(listed()).toEqual(expected.sort((a, b) => Number(a) - Number(b)));
  const row = await memory.lookup(DEST, [members[0].keyHash, members[2].keyHash]);
  expect(row.get(members[0].keyHash)!.recordId).toBe(members[1].recordId);
  expect(row.get(members[2].keyHash)!.recordId).toBe(fresh.results[0].id);
});

test('a leaver (no email) whose id was merged away is removed through hs_merged_object_ids', async () => {
  const { account, members, writer, listed } = await setUp(5);
  const w = writer(1000);
  for (const m of members) await w.add(m);
  await w.flush();
  sim.admin.mergeContacts(account.portalId, members[4].recordId, members[3].recordId);
  const settled: string[] = [];
  const leaver = writer(1000, async (k) => void settled.push(...k));
  await leaver.remove({ recordId: members[3].recordId, keyHash: members[3].keyHash, leaver: true });
  await leaver.flush();
  expect(leaver.counts).toMatchObject({ removed: 1, reResolved: 1, gone: 0 });
  expect(listed()).toEqual(members.slice(0, 3).map((m) => m.recordId));
  expect(settled).toEqual([members[3].keyHash]);
});

test('an archived member cannot be added: a stored rejection with its reason; an archived leaver is gone', async () => {
  const { account, members, writer, activationId } = await setUp(3);
  // A HubSpot user archives two contacts (HubSpot's batch archive route).
  const archived = await fetch(`${sim.url}/crm/v3/objects/contacts/batch/archive`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${account.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ inputs: [{ id: members[0].recordId }, { id: members[1].recordId }] }),
  });
  expect(archived.status).toBe(204);
  const w = writer(1000);
  await w.add(members[0]);
  await w.remove({ recordId: members[1].recordId, keyHash: members[1].keyHash, leaver: true });
  await w.add(members[2]);
  await w.flush();
  expect(w.counts).toEqual({ added: 1, removed: 0, reResolved: 0, rejected: 1, gone: 1 });
  const stored = await rejections.page(activationId, 0, 10);
  expect(stored).toHaveLength(1);
  expect(stored[0]).toMatchObject({ email: members[0].email, reason: { code: LIST_MEMBER_NOT_FOUND, origin: 'hubspot' } });
  // Forgotten: the next run upserts it again (a new contact).
  expect((await memory.lookup(DEST, [members[0].keyHash])).has(members[0].keyHash)).toBe(false);
  expect((await memory.lookup(DEST, [members[2].keyHash])).has(members[2].keyHash)).toBe(true);
});

test("a profile's email that is a contact's additional email updates that contact and keeps its primary email", async () => {
  const { account, client, members } = await setUp(2);
  // p0 was merged into p1: p0's address is now an additional email of p1's contact.
  sim.admin.mergeContacts(account.portalId, members[1].recordId, members[0].recordId);
  const res = await client.batchUpsertContacts([{ email: 'p0@example.com', properties: { email: 'p0@example.com', firstname: 'Zoe' } }]);
  expect(res.results[0]).toMatchObject({ id: members[1].recordId, isNew: false });
  const c = sim.admin.getContact(account.portalId, 'p1@example.com')!;
  expect(c.properties).toMatchObject({ email: 'p1@example.com', firstname: 'Zoe', hs_additional_emails: 'p0@example.com' });
  expect(sim.admin.contactCount(account.portalId)).toBe(1);
});
