/**
 * When the account's daily API budget is gone, the activation waits durably until HubSpot's reset time —
 * visibly (status "waiting", a timer with a summary, the WaitingDailyLimit search attribute) — instead
 * of burning retries, then resumes the interrupted page and completes exactly.
 */
import { accountingError } from '../../src/delivery/counts';
import { expectExactContacts, getActivation, startActivation, upsertCalls, waitForEnd, writeMembers } from '../helpers/activation';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(180_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { ACTIVATION_PAGE_SIZE: '500' } });
});
afterAll(async () => {
  await stack?.close();
});

test('daily limit: waits for the reset with a visible timer, then resumes and completes', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  const resetsAt = new Date(Date.now() + 20_000);
  // 25 calls are needed (setup + 20 batches); 18 are left today.
  stack.sim.admin.setLimits(portalId, { daily: 18, dailyResetsAt: resetsAt.toISOString() });
  const { file, profiles } = writeMembers(stack, 'daily', 2000, 41);
  stack.sim.admin.resetStats();
  const activationId = await startActivation(stack, destinationId, { path: file });

  const waiting = await waitFor(
    async () => {
      const a = await getActivation(stack, activationId);
      return a.status === 'waiting' ? a : undefined;
    },
    { what: 'the daily-limit wait', timeoutMs: 30_000 },
  );
  expect(Date.parse(waiting.progress.waitingUntil)).toBe(resetsAt.getTime());
  expect(waiting.progress.waitReason).toMatch(/daily/i);
  const sentBeforeReset = upsertCalls(stack);
  expect(sentBeforeReset).toBeLessThan(20);

  // Findable by status while it waits.
  await waitFor(
    async () => {
      const res = await stack.request({ method: 'GET', url: `/v1/activations?destinationId=${destinationId}&status=WaitingDailyLimit` });
      return (res.json().items as unknown[]).length === 1;
    },
    { what: 'visibility of the waiting activation' },
  );

  const end = await waitForEnd(stack, activationId, 90_000);
  expect(end.status).toBe('completed');
  expect(accountingError(end.summary)).toBeUndefined();
  expect(end.summary).toMatchObject({ received: 2000, upserted: 2000 });
  expect(Date.parse(end.summary.finishedAt)).toBeGreaterThanOrEqual(resetsAt.getTime());
  expectExactContacts(stack, portalId, profiles);

  // No retries were burnt against the exhausted budget: at most one DAILY 429 from HubSpot.
  expect(stack.sim.admin.stats().rateLimited.DAILY ?? 0).toBeLessThanOrEqual(1);
  // The wait is a durable timer with a summary in the history.
  const history = await stack.client.workflow.getHandle(activationId).fetchHistory();
  const timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes);
  expect(timers).toHaveLength(1);
  expect(timers[0].userMetadata?.summary).toBeDefined();
});
