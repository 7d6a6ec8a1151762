/**
 * Fault tests 3 and 4: an unreliable HubSpot (20% of calls fail with HTML 5xx, hangs and resets, plus
 * 429 bursts) loses nothing; a token revoked mid-run fails the run once with a clear reason, and after a
 * new token is set on the destination a re-run completes.
 */
import { accountingError } from '../../src/delivery/counts';
import { expectExactContacts, startActivation, upsertCalls, waitForEnd, writeMembers } from '../helpers/activation';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(240_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({
    env: {
      HUBSPOT_REQUEST_TIMEOUT_MS: '1500', // hung calls give up quickly
      ACTIVATION_HEARTBEAT_TIMEOUT_MS: '10000',
      ACTIVATION_PAGE_SIZE: '500',
    },
  });
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => stack.sim.admin.clearFaults());

/**
 * 20% of calls: 12% HTML/JSON 5xx, 4% hangs, 4% resets. Seeded so every kind surely occurs within the
 * run's first calls (a run makes few dozen calls; unseeded dice could skip a kind).
 */
const FAULTS = { errorRate: 0.12, hangRate: 0.04, resetRate: 0.04, errorStatuses: [500, 502, 503, 504], seed: 13 };

test('20% of HubSpot calls fail (HTML 5xx, hangs, resets) plus 429 bursts: the run completes with nothing lost', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  const { file, profiles } = writeMembers(stack, 'faulty', 2000, 31);
  stack.sim.admin.resetStats();
  stack.sim.admin.setFaults({ ...FAULTS, rateLimitBurst: 5 });
  const activationId = await startActivation(stack, destinationId, { path: file });
  // Another 429 burst in the middle of the run.
  await waitFor(() => upsertCalls(stack) >= 5, { what: 'some batches through', timeoutMs: 120_000 });
  stack.sim.admin.setFaults({ ...FAULTS, rateLimitBurst: 5 });

  const end = await waitForEnd(stack, activationId, 200_000);
  expect(end.status).toBe('completed');
  expect(accountingError(end.summary)).toBeUndefined();
  expect(end.summary).toMatchObject({ received: 2000, upserted: 2000, rejected: 0 });
  stack.sim.admin.clearFaults();
  expectExactContacts(stack, portalId, profiles);
  const f = stack.sim.admin.stats().faults;
  expect(f.errors).toBeGreaterThan(0);
  expect(f.hangs + f.resets).toBeGreaterThan(0);
  expect(f.injected429).toBe(10);
});

test('a token revoked mid-run fails the run once with a clear reason; after a new token is set, a re-run completes', async () => {
  const { destinationId, portalId, token } = await createDestination(stack);
  stack.sim.admin.setLimits(portalId, { tenSecondly: 20 }); // slow enough to revoke mid-run
  const { file, profiles } = writeMembers(stack, 'revoked', 3000, 32);
  stack.sim.admin.resetStats();
  const activationId = await startActivation(stack, destinationId, { path: file });
  await waitFor(() => upsertCalls(stack) >= 6, { what: 'the run under way' });
  stack.sim.admin.revokeToken(portalId, token);

  const failed = await waitForEnd(stack, activationId);
  expect(failed.status).toBe('failed');
  expect(failed.failure.type).toBe('HubSpotAuthFailed');
  expect(failed.failure.message).toMatch(/rejected the token.*Set a valid private-app token/);
  expect(JSON.stringify(failed)).not.toContain(token);
  // No retry storm: at most the batches in flight when the token died hit the 401.
  const unauthorized = stack.sim.admin.stats().byRoute['POST /crm/v3/objects/contacts/batch/upsert']?.['401'] ?? 0;
  expect(unauthorized).toBeLessThanOrEqual(stack.config.worker.upsertConcurrency);

  // Rotate: a new token on the same destination, checked like any update.
  const fresh = stack.sim.admin.addToken(portalId).token;
  const patched = await stack.request({
    method: 'PATCH',
    url: `/v1/destinations/${destinationId}`,
    payload: { hubspot: { token: fresh } },
  });
  expect(patched.statusCode).toBe(200);
  expect(patched.body).not.toContain(fresh);
  stack.sim.admin.setLimits(portalId, { tenSecondly: 190 });

  const rerun = await stack.request({ method: 'POST', url: `/v1/activations/${activationId}/rerun`, payload: { mode: 'all' } });
  expect(rerun.statusCode).toBe(202);
  const end = await waitForEnd(stack, rerun.json().activationId);
  expect(end.status).toBe('completed');
  expect(end.rerunOf).toBe(activationId);
  // The members the first run had written (and HubSpot confirmed) are remembered: a re-run sends only the
  // rest and counts those as UNCHANGED (issue 12: `all` honours the memory unless fullResync is given).
  expect(end.summary).toMatchObject({ received: 3000 });
  expect(end.summary.upserted + (end.summary.skippedByReason?.UNCHANGED ?? 0)).toBe(3000);
  expect(end.summary.upserted).toBeGreaterThan(0);
  expectExactContacts(stack, portalId, profiles);
});
