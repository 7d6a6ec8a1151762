/**
 * Per-record isolation against the simulator (no Temporal needed): a record HubSpot rejects never takes
 * the other records of its batch down, whether HubSpot answers 207 (trace ids) or 400 (bisection).
 */
import { HubSpotClient } from '../../src/hubspot/client';
import { HubSpotApiError } from '../../src/hubspot/errors';
import { DailyLimitHitError, sendBatch } from '../../src/delivery/send-batch';
import { startHubSpotSimulator, type RunningSimulator } from '../../src/hubspot-sim';
import type { PreparedContact } from '../../src/mapping/types';
import { UPSERT_ROUTE } from '../helpers/activation';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startHubSpotSimulator({ port: 0 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.admin.clearFaults();
  sim.admin.resetStats();
});

function contacts(n: number, bad: number[] = [], prefix = 'c'): PreparedContact[] {
  return Array.from({ length: n }, (_, i) => {
    const email = bad.includes(i) ? `${prefix}${i}-not-an-email` : `${prefix}${i}@example.com`;
    return { line: i + 1, email, status: 'realized' as const, properties: { email, firstname: `F${i}` } };
  });
}

function client(token: string) {
  return new HubSpotClient({ baseUrl: sim.url, token, timeoutMs: 2000 });
}

const noSleep = { sleep: async () => undefined };

test("207 with trace ids: the bad records are rejected with HubSpot's code, the rest are written", async () => {
  const { portalId, token } = sim.admin.createAccount({});
  const out = await sendBatch(client(token), contacts(100, [3, 50, 99]), noSleep);
  expect(out.upserted).toHaveLength(97);
  expect(out.upserted.every((u) => u.isNew)).toBe(true);
  expect(out.rejected.map((r) => r.contact.line).sort((a, b) => a - b)).toEqual([4, 51, 100]);
  for (const r of out.rejected) expect(r.reason).toMatchObject({ code: 'INVALID_EMAIL', origin: 'hubspot' });
  expect(sim.admin.contactCount(portalId)).toBe(97);
  expect(sim.admin.stats().byRoute[UPSERT_ROUTE]).toEqual({ 207: 1 });
});

test('400 for the whole batch (no trace ids): bisection isolates the bad record and writes the rest', async () => {
  const { portalId, token } = sim.admin.createAccount({});
  const out = await sendBatch(client(token), contacts(100, [42]), { ...noSleep, traceIds: false });
  expect(out.upserted).toHaveLength(99);
  expect(out.rejected).toHaveLength(1);
  expect(out.rejected[0].contact.line).toBe(43);
  expect(out.rejected[0].reason.code).toBe('INVALID_EMAIL');
  expect(sim.admin.contactCount(portalId)).toBe(99);
  // 1 failed call, then ~2 per level of a binary search over 100 records.
  const calls = sim.admin.stats().byRoute[UPSERT_ROUTE];
  expect((calls['400'] ?? 0) + (calls['200'] ?? 0)).toBeLessThanOrEqual(1 + 2 * 7);
});

test('an unknown property on one record is rejected alone', async () => {
  const { portalId, token } = sim.admin.createAccount({});
  const batch = contacts(10);
  batch[5].properties = { ...batch[5].properties, no_such_property: 'x' };
  const out = await sendBatch(client(token), batch, noSleep);
  expect(out.upserted).toHaveLength(9);
  expect(out.rejected.map((r) => [r.contact.line, r.reason.code])).toEqual([[6, 'PROPERTY_DOESNT_EXIST']]);
  expect(sim.admin.contactCount(portalId)).toBe(9);
});

test('updates are counted as updates, emails matched case-insensitively', async () => {
  const { portalId, token } = sim.admin.createAccount({});
  await sendBatch(client(token), contacts(5), noSleep);
  const again = contacts(5).map((c) => ({
    ...c,
    email: c.email.toUpperCase(),
    properties: { ...c.properties, email: c.email.toUpperCase() },
  }));
  const out = await sendBatch(client(token), again, noSleep);
  expect(out.upserted.map((u) => u.isNew)).toEqual([false, false, false, false, false]);
  expect(sim.admin.getContact(portalId, 'c0@example.com')?.properties.email).toBe('c0@example.com');
});

test('transient faults (HTML 502/504, resets, hangs) are retried until the batch lands', async () => {
  const { portalId, token } = sim.admin.createAccount({});
  sim.admin.setFaults({ errorBurst: 2, errorStatuses: [502, 504] });
  const out = await sendBatch(client(token), contacts(20), noSleep);
  expect(out.upserted).toHaveLength(20);
  expect(sim.admin.contactCount(portalId)).toBe(20);
  sim.admin.setFaults({ resetRate: 1 });
  const failing = sendBatch(client(token), contacts(3, [], 'r'), { ...noSleep, maxAttempts: 3 });
  await expect(failing).rejects.toMatchObject({ kind: 'transient' });
});

test('an unexpected 429 burst is retried', async () => {
  const { portalId, token } = sim.admin.createAccount({});
  sim.admin.setFaults({ rateLimitBurst: 2 });
  const out = await sendBatch(client(token), contacts(10), noSleep);
  expect(out.upserted).toHaveLength(10);
  expect(sim.admin.contactCount(portalId)).toBe(10);
});

test("HubSpot's DAILY 429 surfaces as DailyLimitHitError (no retries burnt)", async () => {
  const { portalId, token } = sim.admin.createAccount({});
  sim.admin.setLimits(portalId, { daily: 1 });
  await sendBatch(client(token), contacts(1), noSleep);
  await expect(sendBatch(client(token), contacts(1, [], 'd'), noSleep)).rejects.toBeInstanceOf(DailyLimitHitError);
  expect(sim.admin.stats().rateLimited.DAILY).toBe(1);
});

test('a revoked token fails at once as an auth error', async () => {
  const { portalId, token } = sim.admin.createAccount({});
  sim.admin.revokeToken(portalId, token);
  const err = await sendBatch(client(token), contacts(1), noSleep).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(HubSpotApiError);
  expect((err as HubSpotApiError).kind).toBe('auth');
  expect(String((err as Error).message)).not.toContain(token);
  expect(sim.admin.stats().totalRequests).toBe(1);
});
