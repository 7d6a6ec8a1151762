/**
 * Bounded history: with a low history threshold the stream continues as new many times under load —
 * also while paused with a large buffer to carry — and loses nothing: every email ends with its last value.
 */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';
import { StreamLoad } from '../helpers/stream-load';
import { activateAudience, AUD_A, expectBalanced, streamStats, waitIdle } from '../helpers/streaming';

jest.setTimeout(120_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { STREAM_MAX_HISTORY_EVENTS: '100' } });
});
afterAll(async () => {
  await stack?.close();
});

/** The stream's runs, once visibility (eventually consistent) lists all `runs` of them. */
async function everyRun(workflowId: string, runs: number): Promise<WorkflowExecutionInfo[]> {
  return waitFor(
    async () => {
      const seen: WorkflowExecutionInfo[] = [];
      for await (const wf of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) seen.push(wf);
      return seen.length >= runs ? seen : undefined;
    },
    { what: 'every run in visibility' },
  );
}

test('continue-as-new under load, with and without a carried buffer, loses nothing', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  await activateAudience(stack, destinationId, AUD_A);
  const load = new StreamLoad(stack, destinationId, AUD_A, 400);

  // Running: 4 senders × 25 requests of 10 updates.
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 25; i++) await load.send(10);
    }),
  );
  // Paused: the buffer grows (hundreds of emails) and has to be carried over several runs.
  await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/stream/pause` });
  const runsBefore = (await streamStats(stack, destinationId)).runs;
  for (let i = 0; i < 150; i++) await load.send(8);
  const paused = await streamStats(stack, destinationId);
  expect({ state: paused.state, newRuns: paused.runs > runsBefore, buffered: paused.buffered > 300 }).toEqual({
    state: 'paused',
    newRuns: true,
    buffered: true,
  });
  await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/stream/resume` });
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      for (let i = 0; i < 20; i++) await load.send(10);
    }),
  );

  expect(load.refusals).toEqual([]);
  const s = await waitIdle(stack, destinationId, load.accepted, 60_000);
  expect({ received: s.received, manyRuns: s.runs >= 5, rejected: s.rejected }).toEqual({
    received: load.accepted,
    manyRuns: true,
    rejected: 0,
  });
  expectBalanced(s);
  expect(load.mismatches(portalId)).toEqual([]);
  expect(stack.sim.admin.contactCount(portalId)).toBe(400);

  // Every run stayed far below Temporal's limits.
  for (const run of await everyRun(s.workflowId, s.runs)) expect(run.historyLength).toBeLessThan(1000);
});

/**
 * Decision 30: a handoff holds the API's requests only briefly. Each closing run writes the hold and
 * settles inside that one activity (no workflow timer after it), and each next run lifts the hold with a
 * local activity in its first workflow task (no activity task). Every update still arrives.
 */
test('a handoff settles inside the hold activity and the next run lifts the hold in its first workflow task', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  await activateAudience(stack, destinationId, AUD_A);
  const load = new StreamLoad(stack, destinationId, AUD_A, 200);
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 50; i++) await load.send(5);
    }),
  );
  expect(load.refusals).toEqual([]);
  const s = await waitIdle(stack, destinationId, load.accepted, 60_000);
  expect({ received: s.received, severalRuns: s.runs >= 2 }).toEqual({ received: load.accepted, severalRuns: true });
  expect(load.mismatches(portalId)).toEqual([]);

  const runIds = (await everyRun(s.workflowId, s.runs)).map((run) => run.runId);
  const { EventType } = temporal.api.enums.v1;
  let handoffs = 0;
  let lifts = 0;
  for (const runId of runIds) {
    const events = (await stack.client.workflow.getHandle(s.workflowId, runId).fetchHistory()).events ?? [];
    const activity = (e: (typeof events)[number]) => e.activityTaskScheduledEventAttributes?.activityType?.name;
    expect(events.filter((e) => activity(e) === 'releaseStreamSignals')).toEqual([]);
    const hold = events.findIndex((e) => activity(e) === 'holdStreamSignals');
    if (hold >= 0) {
      handoffs++;
      const after = events.slice(hold).map((e) => e.eventType);
      expect(after).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
      expect(after).not.toContain(EventType.EVENT_TYPE_TIMER_STARTED);
    }
    // A run that follows a handoff records the local activity that lifted the hold in its first task.
    const firstTaskEnd = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    if (events.slice(firstTaskEnd).some((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')) lifts++;
  }
  expect(handoffs).toBe(runIds.length - 1);
  expect(lifts).toBe(runIds.length - 1);
  // Lifted, not left to expire.
  expect(await stack.services.streamHolds.holdUntil(destinationId)).toBe(0);
});
