/**
 * Sync modes (issue 17) on a mixed audience (half the members already in HubSpot), real parts: `update`
 * never creates (NOT_IN_HUBSPOT), `create` never changes an existing contact (ALREADY_IN_HUBSPOT),
 * `upsert` does both; every run balances (received = upserted + rejected + skipped). Calls: one batch
 * read and one batch update (or create) per 100 members.
 */
import { accountingError } from '../../src/delivery/counts';
import { waitForEnd } from '../helpers/activation';
import { activateWith, callsTo, members, writeProfiles, type Member } from '../helpers/safe-runs';
import { destinationWithToken, startStack, type TestStack } from '../helpers/stack';

jest.setTimeout(300_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const destinationOn = (token: string) => destinationWithToken(stack, token);

/** An account holding members 0–149 of 300 (written by a first destination); the members of the next run with new cities. */
async function mixedAccount(prefix: string) {
  const account = stack.sim.admin.createAccount({ tier: 'pro' });
  const all = members(300, prefix);
  const seed = await waitForEnd(
    stack,
    await activateWith(stack, await destinationOn(account.token), writeProfiles(stack, `${prefix}-seed`, all.slice(0, 150)), {}),
  );
  expect(seed.status).toBe('completed');
  const next: Member[] = all.map((m) => ({ ...m, city: `New ${m.city}` }));
  return { account, all, next, file: writeProfiles(stack, `${prefix}-next`, next), destinationId: await destinationOn(account.token) };
}

test('update: existing contacts updated, missing ones skipped NOT_IN_HUBSPOT, nothing created', async () => {
  const { account, next, file, destinationId } = await mixedAccount('upd');
  const [reads, updates, upserts, creates] = ['batch/read', 'batch/update', 'batch/upsert', 'batch/create'].map((r) => callsTo(stack, r));
  const end = await waitForEnd(stack, await activateWith(stack, destinationId, file, { mode: 'update' }));
  expect(end.status).toBe('completed');
  expect(accountingError(end.summary)).toBeUndefined();
  expect(end.summary).toMatchObject({ received: 300, upserted: 150, created: 0, updated: 150, rejected: 0, skipped: 150 });
  expect(end.summary.skippedByReason).toEqual({ NOT_IN_HUBSPOT: 150 });
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(150);
  expect(stack.sim.admin.getContact(account.portalId, next[0].email)?.properties.city).toBe(next[0].city);
  expect(stack.sim.admin.getContact(account.portalId, next[200].email)).toBeUndefined();
  expect(callsTo(stack, 'batch/read') - reads).toBe(3);
  expect(callsTo(stack, 'batch/update') - updates).toBe(2);
  expect(callsTo(stack, 'batch/upsert') - upserts).toBe(0);
  expect(callsTo(stack, 'batch/create') - creates).toBe(0);
});

test('create: missing contacts created, existing ones skipped ALREADY_IN_HUBSPOT and left as they were', async () => {
  const { account, all, next, file, destinationId } = await mixedAccount('crt');
  const [reads, creates, upserts, updates] = ['batch/read', 'batch/create', 'batch/upsert', 'batch/update'].map((r) => callsTo(stack, r));
  const end = await waitForEnd(stack, await activateWith(stack, destinationId, file, { mode: 'create' }));
  expect(end.status).toBe('completed');
  expect(accountingError(end.summary)).toBeUndefined();
  expect(end.summary).toMatchObject({ received: 300, upserted: 150, created: 150, updated: 0, rejected: 0, skipped: 150 });
  expect(end.summary.skippedByReason).toEqual({ ALREADY_IN_HUBSPOT: 150 });
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(300);
  expect(stack.sim.admin.getContact(account.portalId, all[0].email)?.properties.city).toBe(all[0].city);
  expect(stack.sim.admin.getContact(account.portalId, next[200].email)?.properties.city).toBe(next[200].city);
  expect(callsTo(stack, 'batch/read') - reads).toBe(3);
  expect(callsTo(stack, 'batch/create') - creates).toBe(2);
  expect(callsTo(stack, 'batch/upsert') - upserts).toBe(0);
  expect(callsTo(stack, 'batch/update') - updates).toBe(0);
});

test('upsert (default): both', async () => {
  const { account, file, destinationId } = await mixedAccount('ups');
  const end = await waitForEnd(stack, await activateWith(stack, destinationId, file, {}));
  expect(end.summary).toMatchObject({ received: 300, upserted: 300, created: 150, updated: 150, skipped: 0 });
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(300);
});
