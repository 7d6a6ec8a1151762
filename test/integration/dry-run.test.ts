/**
 * Dry runs (issue 17) on real parts: over 5,000 members on an account already holding half of them, the
 * plan counts exactly the creates, updates (old → new), unchanged, exits and rejections, with zero write
 * calls to HubSpot (the simulator's stats), no property created and nothing written to the memory.
 */
import { audiencePropertyName } from '../../src/mapping/audience-property';
import { AUDIENCE, waitForEnd } from '../helpers/activation';
import { activateWith, callsTo, members, planOf, writeCalls, writeProfiles, type Member } from '../helpers/safe-runs';
import { DEFAULT_MAPPING, destinationWithToken, startStack, type TestStack } from '../helpers/stack';

jest.setTimeout(300_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const destinationOn = (token: string) => destinationWithToken(stack, token);

test('5,000 members, half already in HubSpot: exact plan, zero writes', async () => {
  const account = stack.sim.admin.createAccount({ tier: 'pro' });
  const first = await destinationOn(account.token);
  const all = members(5000, 'dry');
  // The account holds members 0–2,499 as a real run wrote them.
  const seeded = await waitForEnd(
    stack,
    await activateWith(stack, first, writeProfiles(stack, 'dry-seed', all.slice(0, 2500)), {}),
    240_000,
  );
  expect(seeded.status).toBe('completed');
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(2500);

  // 0–999 moved city (update), 1,000–1,099 left the audience (update + exit), 1,100–2,499 as they are
  // (unchanged), 2,500–4,999 new (create) except ten with an invalid email (reject).
  const next: Member[] = all.map((m, i) => {
    if (i < 1000) return { ...m, city: `Moved${i}` };
    if (i < 1100) return { ...m, status: 'exited' };
    if (i >= 4990) return { ...m, email: `broken-${i}` };
    return m;
  });
  const file = writeProfiles(stack, 'dry-next', next);
  const second = await destinationOn(account.token); // no memory: every member is read
  const writesBefore = writeCalls(stack);
  const readsBefore = callsTo(stack, 'batch/read');
  const activationId = await activateWith(stack, second, file, { dryRun: true });
  const end = await waitForEnd(stack, activationId, 240_000);
  expect(writeCalls(stack) - writesBefore).toBe(0);
  expect(end.status).toBe('completed_with_rejections');
  expect(end.summary.dryRun).toBe(true);
  expect(end.summary.plan).toEqual({
    create: 2490,
    update: 1100,
    unchanged: 1400,
    exit: 100,
    reject: 10,
    listAdd: 0,
    listRemove: 0,
    propertiesToCreate: [],
  });
  expect(end.summary).toMatchObject({ received: 5000, upserted: 0, rejected: 10, skipped: 4990 });
  expect(end.summary.skippedByReason).toEqual({ WOULD_CREATE: 2490, WOULD_UPDATE: 1100, UNCHANGED: 1400 });
  // One batch read per 100 valid members.
  expect(callsTo(stack, 'batch/read') - readsBefore).toBe(50);
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(2500);
  expect(stack.sim.admin.getContact(account.portalId, all[0].email)?.properties.city).toBe(all[0].city);

  const lines = await planOf(stack, activationId);
  expect(lines).toHaveLength(5000);
  const byLine = new Map(lines.map((l) => [l.line, l]));
  expect(byLine.get(1)).toMatchObject({
    action: 'update',
    email: all[0].email,
    changes: [{ property: 'city', old: all[0].city, new: 'Moved0' }],
  });
  expect(byLine.get(1001)).toMatchObject({
    action: 'update',
    changes: [{ property: audiencePropertyName(AUDIENCE.id), old: 'realized', new: 'exited' }],
  });
  expect(byLine.get(1201)).toMatchObject({ action: 'unchanged' });
  expect(byLine.get(3001)).toMatchObject({ action: 'create', email: all[3000].email });
  expect(byLine.get(3001)!.changes).toEqual(expect.arrayContaining([{ property: 'city', old: null, new: all[3000].city }]));
  expect(byLine.get(4991)).toMatchObject({ action: 'reject' });

  // Nothing was remembered for the dry run's destination.
  const remembered = await stack.services.contactMemory.lookup(
    second,
    all.slice(0, 100).map((m) => stack.services.contactMemory.keyOf(second, m.email)),
  );
  expect(remembered.size).toBe(0);
});

test('a dry run on a new account reports the status property it would create, and creates none', async () => {
  const account = stack.sim.admin.createAccount({ tier: 'pro' });
  const dst = await destinationOn(account.token);
  const propertiesBefore = stack.sim.admin.listProperties(account.portalId).length;
  const activationId = await activateWith(stack, dst, writeProfiles(stack, 'dry-new', members(120, 'fresh')), { dryRun: true });
  const end = await waitForEnd(stack, activationId, 240_000);
  expect(end.failure).toBeUndefined();
  expect(end.status).toBe('completed');
  expect(end.summary.plan).toMatchObject({ create: 120, update: 0, unchanged: 0, propertiesToCreate: [audiencePropertyName(AUDIENCE.id)] });
  expect(stack.sim.admin.listProperties(account.portalId)).toHaveLength(propertiesBefore);
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(0);
});

test('dry runs plan the sync mode and read by the match key', async () => {
  const account = stack.sim.admin.createAccount({ tier: 'pro' });
  const created = await fetch(`${stack.sim.url}/crm/v3/properties/contacts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${account.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: 'loyalty_id',
      label: 'Loyalty id',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
      hasUniqueValue: true,
    }),
  });
  expect(created.status).toBe(201);
  const res = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: {
      name: 'Dry by key',
      hubspot: { token: account.token, baseUrl: stack.sim.url },
      mapping: { attributes: [...DEFAULT_MAPPING, { source: 'loyalty.id', target: 'loyalty_id' }], matchKey: 'loyalty_id' },
    },
  });
  expect(res.statusCode).toBe(201);
  const dst = res.json<{ id: string }>().id;
  const all = members(100, 'keyed', (i) => ({ loyaltyId: `K-${i}` }));
  const seed = await waitForEnd(stack, await activateWith(stack, dst, writeProfiles(stack, 'keyed-seed', all.slice(0, 50)), {}));
  expect(seed.status).toBe('completed');
  // The same loyalty ids under new emails: only the match key can find them.
  const file = writeProfiles(
    stack,
    'keyed-next',
    all.map((m) => ({ ...m, email: `renamed-${m.email}` })),
  );
  const writes = writeCalls(stack);

  const update = await waitForEnd(stack, await activateWith(stack, dst, file, { dryRun: true, mode: 'update' }));
  expect(update.summary.plan).toMatchObject({ create: 0, update: 50, unchanged: 0 });
  expect(update.summary.skippedByReason).toEqual({ WOULD_UPDATE: 50, NOT_IN_HUBSPOT: 50 });
  const lines = await planOf(stack, update.activationId);
  expect(lines.find((l) => l.line === 1)).toMatchObject({
    action: 'update',
    changes: [{ property: 'email', old: all[0].email, new: `renamed-${all[0].email}` }],
  });
  expect(lines.find((l) => l.line === 51)).toMatchObject({ action: 'skip' });

  const create = await waitForEnd(stack, await activateWith(stack, dst, file, { dryRun: true, mode: 'create' }));
  expect(create.summary.plan).toMatchObject({ create: 50, update: 0, unchanged: 0 });
  expect(create.summary.skippedByReason).toEqual({ WOULD_CREATE: 50, ALREADY_IN_HUBSPOT: 50 });
  expect(writeCalls(stack) - writes).toBe(0);
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(50);
});
