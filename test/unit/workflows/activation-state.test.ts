import { ActivationState, dailyResetWaitMs, type PagesResult } from '../../../workflows/activation-state';
import { emptyCounts } from '../../../src/delivery/counts';
import { START_CURSOR } from '../../../src/members/types';
import type { ActivationInput } from '../../../workflows/types';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const input: ActivationInput = {
  activationId: 'act-1',
  destinationId: 'd1',
  audience: { id: 'A', name: 'Buyers' },
  source: { kind: 'upload', uploadId: 'u1' },
};
const page = (received: number, rejected: number, done: boolean, line: number): PagesResult => ({
  counts: {
    ...emptyCounts(),
    received,
    upserted: received - rejected,
    created: received - rejected,
    rejected,
    rejectedByReason: rejected ? { INVALID_EMAIL: rejected } : {},
  },
  pages: 1,
  next: { line, offset: line * 100 },
  done,
});

describe('ActivationState', () => {
  test('a first run needs setup and reports no cursor until it is sending', () => {
    const run = new ActivationState(input, T0);
    expect(run.needsSetup).toBe(true);
    expect(run.progress()).toMatchObject({ phase: 'starting', pagesDone: 0, runs: 1, startedAt: new Date(T0).toISOString() });
    expect(run.progress().activityCursor).toBeUndefined();
    expect(() => run.nextPages()).toThrow(/not set up/);
    run.setUpDone('hs_audience_a', 10);
    expect(run.needsSetup).toBe(false);
    expect(run.nextPages()).toEqual({ cursor: START_CURSOR, propertyName: 'hs_audience_a' });
    run.phase = 'sending';
    expect(run.progress()).toMatchObject({ totalRecords: 10, activityCursor: START_CURSOR });
  });

  test('pages add up; the summary and its outcome follow the counts', () => {
    const run = new ActivationState(input, T0);
    run.setUpDone('p', 5);
    expect(run.recordPages(page(3, 0, false, 4))).toBe(false);
    expect(run.nextPages().cursor).toEqual({ line: 4, offset: 400 });
    expect(run.outcome).toBe('completed');
    expect(run.recordPages(page(2, 1, true, 6))).toBe(true);
    expect(run.summary('2026-01-01T01:00:00.000Z')).toMatchObject({
      status: 'completed_with_rejections',
      received: 5,
      upserted: 4,
      rejected: 1,
      rejectedByReason: { INVALID_EMAIL: 1 },
      pages: 2,
      runs: 1,
      finishedAt: '2026-01-01T01:00:00.000Z',
    });
    expect(run.details()).toContain('Rejections: INVALID_EMAIL 1');
    expect(run.alertCounts()).not.toHaveProperty('skippedByReason');
  });

  test('the carry for the next run continues the counts, pages and chain', () => {
    const run = new ActivationState(input, T0);
    run.setUpDone('p', 5);
    run.recordPages(page(3, 0, false, 4));
    const next = new ActivationState({ ...input, carry: run.carryForNextRun() }, T0 + 60_000);
    expect(next.needsSetup).toBe(false);
    expect(next.phase).toBe('sending');
    expect(next.runs).toBe(2);
    expect(next.startedAt).toBe(new Date(T0).toISOString());
    expect(next.progress()).toMatchObject({ pagesDone: 1, counts: { received: 3 }, activityCursor: { line: 4, offset: 400 } });
  });

  test('the daily-limit wait shows in progress and details, and ends when sending resumes', () => {
    const run = new ActivationState(input, T0);
    run.setUpDone('p', 5);
    run.waitForDailyReset('2026-01-02T00:00:00.000Z');
    expect(run.progress()).toMatchObject({ phase: 'waiting-daily-limit', waitingUntil: '2026-01-02T00:00:00.000Z' });
    expect(run.progress().activityCursor).toEqual(START_CURSOR);
    expect(run.details()).toContain("until 2026-01-02T00:00:00.000Z (HubSpot's daily API limit is used up)");
    run.resumeSending();
    expect(run.progress()).toMatchObject({ phase: 'sending', waitingUntil: undefined, waitReason: undefined });
  });

  test('dailyResetWaitMs sleeps until a second past the reset, at least a second', () => {
    expect(dailyResetWaitMs('2026-01-01T00:10:00Z', T0)).toBe(601_000);
    expect(dailyResetWaitMs('2025-12-31T00:00:00Z', T0)).toBe(1000);
  });
});
