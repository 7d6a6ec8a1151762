/** activateAudience on the time-skipping test server with fake activities: its branches, in seconds. */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { emptyCounts } from '../../src/delivery/counts';
import { activateAudience } from '../../workflows/activate-audience';
import { progressQuery } from '../../workflows/messages';
import type { ActivationInput, ActivationOptions, DeliveryCounts, SourceCursor } from '../../workflows/types';
import { eventually, startTimeSkipping, withWorker, type FakeActivities } from './time-skipping';

jest.setTimeout(60_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkipping();
});
afterAll(async () => {
  await env?.teardown();
});

let seq = 0;
const input = (options: ActivationOptions = {}): ActivationInput => ({
  activationId: `act-${++seq}`,
  destinationId: 'd1',
  audience: { id: 'A', name: 'Buyers' },
  source: { kind: 'upload', uploadId: 'u1' },
  options,
});

const counts = (received: number): DeliveryCounts => ({ ...emptyCounts(), received, upserted: received, created: received });

interface PageCall {
  cursor: SourceCursor;
  scheduledAt: number;
}

/** Setup that succeeds, and pages of `perPage` members until `pages` were delivered. */
function fakes(
  pages: number,
  perPage = 10,
  overrides: FakeActivities = {},
): { activities: FakeActivities; calls: PageCall[]; setups: string[] } {
  const calls: PageCall[] = [];
  const setups: string[] = [];
  const activities: FakeActivities = {
    validateConnection: async () => (setups.push('validateConnection'), { portalId: 1 }),
    ensureAudienceProperty: async () => (setups.push('ensureAudienceProperty'), { propertyName: 'hs_audience_a' }),
    describeSource: async () => (setups.push('describeSource'), { totalRecords: pages * perPage }),
    processPages: async (i: { cursor: SourceCursor }) => {
      calls.push({ cursor: i.cursor, scheduledAt: Context.current().info.currentAttemptScheduledTimestampMs });
      const line = i.cursor.line + perPage;
      return { counts: counts(perPage), pages: 1, next: { line, offset: line * 100 }, done: calls.length >= pages };
    },
    summarizeActivation: async () => ({ storedRejections: 0 }),
    ...overrides,
  };
  return { activities, calls, setups };
}

test('pages until the source is exhausted and sums the counts', async () => {
  const { activities, calls, setups } = fakes(3);
  const summary = await withWorker(env, activities, (taskQueue) =>
    env.client.workflow.execute(activateAudience, { taskQueue, workflowId: `a-${seq + 1}`, args: [input()] }),
  );
  expect(summary).toMatchObject({ status: 'completed', received: 30, upserted: 30, pages: 3, runs: 1 });
  expect(setups).toEqual(['validateConnection', 'ensureAudienceProperty', 'describeSource']);
  expect(calls.map((c) => c.cursor.line)).toEqual([1, 11, 21]);
});

test('daily limit: the run sleeps durably until the reset, then resumes the page', async () => {
  const resetsAfterMs = 6 * 3600_000;
  let resetsAt = 0;
  const { activities, calls } = fakes(2);
  const processPages = activities.processPages;
  activities.processPages = async (i: { cursor: SourceCursor }) => {
    if (calls.length === 1 && resetsAt === 0) {
      resetsAt = Context.current().info.currentAttemptScheduledTimestampMs + resetsAfterMs;
      throw ApplicationFailure.create({
        type: 'DailyLimitReached',
        message: "HubSpot's daily limit is used up",
        details: [{ resetsAt: new Date(resetsAt).toISOString(), cursor: i.cursor }],
      });
    }
    return processPages(i);
  };
  const summary = await withWorker(env, activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(activateAudience, { taskQueue, workflowId: `a-${seq + 1}`, args: [input()] });
    // Time stands still until the test waits for the result: the run is seen waiting.
    const waiting = await eventually(
      () => handle.query(progressQuery),
      (p) => p.phase === 'waiting-daily-limit',
    );
    expect(waiting.waitingUntil).toBe(new Date(resetsAt).toISOString());
    expect(waiting.activityCursor).toEqual({ line: 11, offset: 1100 });
    return handle.result();
  });
  expect(summary).toMatchObject({ status: 'completed', received: 20, pages: 2, runs: 1 });
  // The page was retried once, from where it stopped, after the reset (server time).
  expect(calls.map((c) => c.cursor.line)).toEqual([1, 11]);
  expect(calls[1].scheduledAt).toBeGreaterThanOrEqual(resetsAt);
});

test('continue-as-new: a long activation runs in several runs, setup once, counts carried', async () => {
  const { activities, calls, setups } = fakes(4);
  const { summary, firstRunId, lastRunId } = await withWorker(env, activities, async (taskQueue) => {
    // Every history is "long" at 1 event: the run continues as new after each page but the last.
    const handle = await env.client.workflow.start(activateAudience, {
      taskQueue,
      workflowId: `a-${seq + 1}`,
      args: [input({ maxHistoryEvents: 1 })],
    });
    const summary = await handle.result();
    return { summary, firstRunId: handle.firstExecutionRunId, lastRunId: (await handle.describe()).runId };
  });
  expect(summary).toMatchObject({ status: 'completed', received: 40, pages: 4, runs: 4 });
  expect(setups).toEqual(['validateConnection', 'ensureAudienceProperty', 'describeSource']);
  expect(calls.map((c) => c.cursor.line)).toEqual([1, 11, 21, 31]);
  expect(lastRunId).not.toBe(firstRunId);
});

test('cancel: the page activity is cancelled and the run ends cancelled', async () => {
  let cancelled = false;
  const { activities } = fakes(1, 10, {
    processPages: async () => {
      const ctx = Context.current();
      try {
        for (;;) {
          ctx.heartbeat();
          await ctx.sleep(100);
        }
      } catch (err) {
        cancelled = err instanceof CancelledFailure;
        throw err;
      }
    },
  });
  const err = await withWorker(env, activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(activateAudience, {
      taskQueue,
      workflowId: `a-${seq + 1}`,
      args: [input({ heartbeatTimeoutMs: 2000 })],
    });
    await eventually(
      () => handle.query(progressQuery),
      (p) => p.phase === 'sending',
    );
    await handle.cancel();
    const failure = await handle.result().catch((e: unknown) => e);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(await handle.query(progressQuery)).toMatchObject({ phase: 'cancelled', pagesDone: 0 });
    return failure;
  });
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  expect(cancelled).toBe(true);
});

test("a non-retryable failure ends the run once, with the activity's message", async () => {
  let attempts = 0;
  const { activities, calls } = fakes(1, 10, {
    validateConnection: async () => {
      attempts++;
      throw ApplicationFailure.create({
        type: 'HubSpotAuthFailed',
        message: 'HubSpot rejected the token: create a new private app token',
        nonRetryable: true,
      });
    },
  });
  const err = await withWorker(env, activities, (taskQueue) =>
    env.client.workflow.execute(activateAudience, { taskQueue, workflowId: `a-${seq + 1}`, args: [input()] }).catch((e: unknown) => e),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({
    type: 'HubSpotAuthFailed',
    message: 'HubSpot rejected the token: create a new private app token',
    nonRetryable: true,
  });
  expect(attempts).toBe(1);
  expect(calls).toHaveLength(0);
});

test('a final page failure (mapping) fails the run with its type and message; transient ones are retried', async () => {
  let attempts = 0;
  const { activities } = fakes(1, 10, {
    processPages: async () => {
      attempts++;
      if (attempts === 1) throw new Error('socket hang up');
      throw ApplicationFailure.create({ type: 'HubSpotMappingInvalid', message: 'Unknown HubSpot property "favcolor"' });
    },
  });
  const err = await withWorker(env, activities, (taskQueue) =>
    env.client.workflow.execute(activateAudience, { taskQueue, workflowId: `a-${seq + 1}`, args: [input()] }).catch((e: unknown) => e),
  );
  expect((err as WorkflowFailedError).cause).toMatchObject({
    type: 'HubSpotMappingInvalid',
    message: 'Unknown HubSpot property "favcolor"',
  });
  expect(attempts).toBe(2);
});

describe('closed runs report exactly what they wrote', () => {
  const stoppedAt = { ...counts(7), rejected: 2, rejectedByReason: { INVALID_EMAIL: 2 }, received: 9 };

  test('cancel: the run waits for the page activity to stop, then records its final counts (memo, details)', async () => {
    let stoppedBeforeClose = false;
    const reads: Array<{ activationId: string; runOffset: number }> = [];
    let pageCalls = 0;
    const { activities } = fakes(2, 10, {
      processPages: async (i: { cursor: SourceCursor }) => {
        if (++pageCalls === 1) return { counts: counts(10), pages: 1, next: { line: 11, offset: 1100 }, done: false };
        const ctx = Context.current();
        try {
          for (;;) {
            ctx.heartbeat();
            await ctx.sleep(100);
          }
        } catch (err) {
          await new Promise((r) => setTimeout(r, 300)); // finishing the batch in progress
          stoppedBeforeClose = true;
          throw err;
        } finally {
          void i;
        }
      },
      closedRunProgress: async (i: { activationId: string; runOffset: number }) => {
        reads.push(i);
        return { counts: stoppedAt };
      },
    });
    const id = `a-${seq + 1}`;
    const desc = await withWorker(env, activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(activateAudience, {
        taskQueue,
        workflowId: id,
        args: [input({ heartbeatTimeoutMs: 2000 })],
      });
      await eventually(
        () => handle.query(progressQuery),
        (p) => p.pagesDone === 1,
      );
      await handle.cancel();
      await handle.result().catch(() => undefined);
      expect(stoppedBeforeClose).toBe(true);
      expect(await handle.query(progressQuery)).toMatchObject({ phase: 'cancelled', counts: { received: 19, upserted: 17, rejected: 2 } });
      return handle.describe();
    });
    expect(desc.status.name).toBe('CANCELLED');
    expect(reads).toEqual([{ activationId: `act-${seq}`, runOffset: 1100 }]);
    expect(desc.memo?.closedRun).toMatchObject({
      counts: { received: 19, upserted: 17, rejected: 2, rejectedByReason: { INVALID_EMAIL: 2 } },
    });
  });

  test('failure mid-page (token revoked): the failure and the counts written before it', async () => {
    const { activities } = fakes(1, 10, {
      processPages: async () => {
        throw ApplicationFailure.create({ type: 'HubSpotAuthFailed', message: 'HubSpot rejected the token', nonRetryable: true });
      },
      closedRunProgress: async () => ({ counts: stoppedAt }),
    });
    const desc = await withWorker(env, activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(activateAudience, { taskQueue, workflowId: `a-${seq + 1}`, args: [input()] });
      await handle.result().catch(() => undefined);
      return handle.describe();
    });
    expect(desc.status.name).toBe('FAILED');
    expect(desc.memo?.closedRun).toMatchObject({ counts: { received: 9, upserted: 7, rejected: 2 } });
  });
});
