/**
 * One activation run of an audience on a destination (orchestration only: every side effect is an
 * activity). Steps, each visible in the Web UI: validate token → ensure the audience property (and
 * re-check the mapping) → page through members, upserting each page → summary.
 *
 * History stays bounded: pages carry cursors and counts, never contact data, and the run continues as
 * new before its history grows large, carrying cursor and counts.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  ContinueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { Activities } from '../activities';
import type { AlertEvent, AlertEventName } from '../src/alerts/events';
import {
  ActivationStatusKey,
  AudienceIdKey,
  DestinationIdKey,
  SyncIdKey,
  type ActivationStatusValue,
} from '../src/temporal/search-attributes';
import { ActivationState, dailyResetWaitMs, type PagesResult } from './activation-state';
import { emitAlert } from './alerts';
import { escapeMarkdown } from './markdown';
import { progressQuery } from './messages';
import {
  audiencesOf,
  DAILY_LIMIT_FAILURE,
  DEFAULT_ACTIVATION_OPTIONS,
  DEFAULT_GUARD_MIN_RECORDS,
  NON_RETRYABLE_TYPES,
  type ActivationInput,
  type ActivationSummary,
  type DailyLimitDetails,
  usesList,
  usesProperty,
} from './types';

const retry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '2 minutes',
  nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES, DAILY_LIMIT_FAILURE] as string[],
};

const setupOptions: ActivityOptions = { startToCloseTimeout: '2 minutes', retry: { ...retry, maximumAttempts: 20 } };
const acts = proxyActivities<Activities>(setupOptions);

/** The activity's own failure (type, message, details), if an activity failed with one. */
function applicationCause(err: unknown): ApplicationFailure | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
}

export async function activateAudience(started: ActivationInput): Promise<ActivationSummary> {
  // A sync's Temporal Schedule starts runs without an id: the run's id is its workflow id (schedule id + time).
  const scheduled = !started.activationId;
  const input: ActivationInput = scheduled ? { ...started, activationId: workflowInfo().workflowId } : started;
  const run = new ActivationState(input, Date.now());
  setHandler(progressQuery, () => run.progress());
  // Set on every run: workflows started without them (e.g. by hand) are still findable.
  upsertSearchAttributes([
    { key: DestinationIdKey, value: input.destinationId },
    { key: AudienceIdKey, value: input.audience.id },
    { key: ActivationStatusKey, value: 'Running' },
    ...(input.syncId ? [{ key: SyncIdKey, value: input.syncId }] : []),
  ]);

  try {
    if (scheduled && input.syncId && run.needsSetup) await beginSyncRun(input, input.syncId);
    if (run.needsSetup) await setUp(run, input);
    await sendAllPages(run, input);
    // A dry run writes nothing to HubSpot: no lists either.
    if (audiencesOf(input).some(usesList) && !input.options?.dryRun && patched('audience-lists-v1')) await writeLists(run, input);
    if (input.options?.exitMissing && !input.options.dryRun && patched('exit-missing-v1')) await writeExits(run, input);
    return await finish(run, input);
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (isCancellation(err)) {
      run.phase = 'cancelled';
      await CancellationScope.nonCancellable(async () => {
        await recordClosedRun(run, input, 'cancelled');
        setStatus('Cancelled');
        showDetails(run);
        if (patched('closed-run-counts-v1')) await alert(run, input, 'activation.cancelled', 'cancelled', { status: 'cancelled' });
      });
      throw err;
    }
    return await fail(run, input, err);
  }
}

/**
 * A run closed early (cancelled, failed): add what the stopped page run delivered (its checkpoint in the
 * store, written after every batch) and record the exact counts in the memo `closedRun`, which the API,
 * the CLI and the Web UI show. New commands: behind a patch for histories recorded before it.
 */
async function recordClosedRun(run: ActivationState, input: ActivationInput, status: 'cancelled' | 'failed'): Promise<void> {
  if (!patched('closed-run-counts-v1')) return;
  const runOffset = run.pageRunOffset();
  if (runOffset !== undefined) {
    const stopped = await acts.closedRunProgress
      .executeWithOptions(
        { startToCloseTimeout: '30 seconds', retry: { ...retry, maximumAttempts: 5 }, summary: 'Read what the stopped page run delivered' },
        [{ activationId: input.activationId, runOffset }],
      )
      .catch(() => undefined);
    run.recordStoppedPages(stopped?.counts);
  }
  upsertMemo({ closedRun: run.closedRun(status) });
}

const setStatus = (status: ActivationStatusValue) => upsertSearchAttributes([{ key: ActivationStatusKey, value: status }]);
const showDetails = (run: ActivationState) => setCurrentDetails(run.details());

/** Alerts (workflows/alerts.ts): delivered by abandoned child workflows; never delay or fail the run. */
async function alert(
  run: ActivationState,
  input: ActivationInput,
  type: AlertEventName,
  key: string,
  extra: Partial<AlertEvent> = {},
): Promise<void> {
  if (!patched('alerts-v1')) return;
  const { workflowId, runId } = workflowInfo();
  await emitAlert(
    {
      type,
      destinationId: input.destinationId,
      activationId: input.activationId,
      audience: input.audience,
      workflowId,
      runId,
      occurredAt: new Date().toISOString(),
      counts: run.alertCounts(),
      totalRecords: run.totalRecords,
      ...extra,
    },
    key,
  );
}

/** A scheduled run of a sync: record its input (for re-runs and views) and claim its audiences' run slots. */
async function beginSyncRun(input: ActivationInput, syncId: string): Promise<void> {
  await acts.beginSyncRun.executeWithOptions(
    { ...setupOptions, summary: `Record this scheduled run of sync ${syncId} and claim its audiences` },
    [
      {
        activationId: input.activationId,
        syncId,
        destinationId: input.destinationId,
        audiences: audiencesOf(input),
        source: input.source,
        ...(input.options?.fullResync || input.options?.exitMissing
          ? {
              options: {
                ...(input.options.fullResync ? { fullResync: true } : {}),
                ...(input.options.exitMissing ? { exitMissing: true } : {}),
              },
            }
          : {}),
      },
    ],
  );
}

/** Once per activation: check the token, ensure the audience property, count the members. */
async function setUp(run: ActivationState, input: ActivationInput): Promise<void> {
  const { destinationId, source } = input;
  await alert(run, input, 'activation.started', 'started', { status: 'running' });
  run.phase = 'validating';
  showDetails(run);
  const { portalId } = await acts.validateConnection.executeWithOptions(
    { ...setupOptions, summary: 'Check the HubSpot token and its scopes' },
    // Audiences kept as HubSpot lists need the list scopes too: checked here, before anything is sent.
    [{ destinationId, ...(audiencesOf(input).some(usesList) ? { lists: true } : {}) }],
  );
  run.phase = 'ensuring-property';
  showDetails(run);
  // One property per listed audience, in order (a one-audience run issues exactly the commands it always did).
  const propertyNames: string[] = [];
  const dryRun = input.options?.dryRun === true;
  for (const audience of audiencesOf(input)) {
    const { propertyName, wouldCreate } = await acts.ensureAudienceProperty.executeWithOptions(
      {
        ...setupOptions,
        summary: dryRun
          ? `Dry run: check the status property of audience "${escapeMarkdown(audience.name)}" and the mapping (no write)`
          : `Ensure the status property of audience "${escapeMarkdown(audience.name)}" and re-check the mapping`,
      },
      [{ destinationId, audience, ...(dryRun ? { dryRun } : {}) }],
    );
    propertyNames.push(propertyName);
    if (wouldCreate) run.propertiesToCreate.push(propertyName);
  }
  // List-encoded audiences: their MANUAL lists exist before anything is sent (a name clash fails here).
  if (audiencesOf(input).some(usesList) && !input.options?.dryRun && patched('audience-lists-v1')) {
    for (const audience of audiencesOf(input).filter(usesList)) {
      await acts.ensureAudienceList.executeWithOptions(
        { ...setupOptions, summary: `Ensure the HubSpot list of audience "${escapeMarkdown(audience.name)}"` },
        [{ destinationId, audience }],
      );
    }
  }
  const { totalRecords } = await acts.describeSource.executeWithOptions({ ...setupOptions, summary: 'Count the members to send' }, [
    { source },
  ]);
  run.setUpDone(propertyNames[0], totalRecords, portalId, input.audiences ? propertyNames : undefined);
}

/** Page activities until the source is exhausted, waiting out the daily limit and continuing as new when history grows. */
async function sendAllPages(run: ActivationState, input: ActivationInput): Promise<void> {
  run.phase = 'sending';
  let done = false;
  while (!done) {
    showDetails(run);
    const result = await sendPages(run, input);
    if (!result) continue;
    done = run.recordPages(result);
    if (!done && historyIsLong(input)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof activateAudience>({ ...input, carry: run.carryForNextRun() });
    }
  }
}

function historyIsLong(input: ActivationInput): boolean {
  const info = workflowInfo();
  return (
    info.continueAsNewSuggested || info.historyLength >= (input.options?.maxHistoryEvents ?? DEFAULT_ACTIVATION_OPTIONS.maxHistoryEvents)
  );
}

/** One page activity; `undefined` when it stopped at HubSpot's daily limit (and the run waited for the reset). */
async function sendPages(run: ActivationState, input: ActivationInput): Promise<PagesResult | undefined> {
  const { activationId, destinationId, audience, source } = input;
  const opts = input.options ?? {};
  const { cursor, propertyName, propertyNames, portalId } = run.nextPages();
  const audiences =
    input.audiences && propertyNames ? input.audiences.map((a, i) => ({ id: a.id, propertyName: propertyNames[i] })) : undefined;
  const listAudienceIds = audiencesOf(input)
    .filter(usesList)
    .map((a) => a.id);
  const listOnlyProperties = audiencesOf(input)
    .map((a, i) => (usesProperty(a) ? undefined : (propertyNames?.[i] ?? propertyName)))
    .filter((n): n is string => n !== undefined);
  try {
    return await acts.processPages.executeWithOptions(
      {
        // A page can wait long for HubSpot's budget; a dead worker is noticed through missed heartbeats.
        startToCloseTimeout: '1 hour',
        heartbeatTimeout: opts.heartbeatTimeoutMs ?? DEFAULT_ACTIVATION_OPTIONS.heartbeatTimeoutMs,
        retry,
        // Pages go through the task queue to whichever worker is free, not eagerly to this one: load spreads
        // over all workers (they share HubSpot's budget through the governor anyway).
        allowEagerDispatch: false,
        summary: `${opts.dryRun ? 'Dry run: plan' : 'Upsert'} members from line ${cursor.line} (page ${run.pagesDone + 1} on)`,
        // A cancelled run waits until the page activity stopped (between batches), so nothing is written
        // after it closed and its checkpoint holds the final counts.
        ...(patched('page-wait-cancellation-v1') ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}),
      },
      [
        {
          activationId,
          destinationId,
          ...(portalId !== undefined ? { portalId } : {}),
          audience,
          propertyName,
          ...(audiences ? { audiences } : {}),
          ...(opts.fullResync ? { fullResync: true } : {}),
          ...(opts.exitMissing ? { exitMissing: true } : {}),
          ...(listOnlyProperties.length ? { listOnlyProperties } : {}),
          // A dry run counts the list adds and removes it would write (the page records none).
          ...(listAudienceIds.length ? { listAudienceIds } : {}),
          ...(opts.dryRun ? { dryRun: true } : {}),
          ...(opts.mode && opts.mode !== 'upsert' ? { mode: opts.mode } : {}),
          ...(opts.maxRejectedPercent !== undefined
            ? {
                guard: {
                  maxRejectedPercent: opts.maxRejectedPercent,
                  minRecords: opts.guardMinRecords ?? DEFAULT_GUARD_MIN_RECORDS,
                  before: { received: run.counts.received, rejected: run.counts.rejected, rejectedByReason: run.counts.rejectedByReason },
                },
              }
            : {}),
          source,
          cursor,
          pageSize: opts.pageSize,
          concurrency: opts.upsertConcurrency,
          maxPages: opts.pagesPerActivity,
          maxMillis: opts.activityMaxMillis,
        },
      ],
    );
  } catch (err) {
    const cause = applicationCause(err);
    if (cause?.type !== DAILY_LIMIT_FAILURE) throw err;
    await waitForDailyReset(run, input, cause.details?.[0] as DailyLimitDetails);
    return undefined;
  }
}

/**
 * Waits durably for HubSpot's daily reset instead of burning retries; the page then resumes where it
 * stopped (the activity's checkpoint is in the store).
 */
async function waitForDailyReset(run: ActivationState, input: ActivationInput, details: DailyLimitDetails): Promise<void> {
  run.waitForDailyReset(details.resetsAt);
  setStatus('WaitingDailyLimit');
  showDetails(run);
  await alert(run, input, 'activation.waiting_daily_limit', `waiting-${Date.parse(details.resetsAt)}`, {
    status: 'waiting',
    waitingUntil: details.resetsAt,
  });
  await sleep(dailyResetWaitMs(details.resetsAt, Date.now()), {
    summary: `Wait for HubSpot's daily limit to reset at ${details.resetsAt}`,
  });
  run.resumeSending();
  setStatus('Running');
}

/**
 * List-encoded audiences, after the upserts (every member has a record id): write the memberships the
 * pages recorded (adds, removes, and with exitMissing the leavers) to the lists ensured at setup.
 */
async function writeLists(run: ActivationState, input: ActivationInput): Promise<void> {
  const { propertyName, propertyNames, portalId } = run.nextPages();
  const lists = audiencesOf(input)
    .filter(usesList)
    .map((audience) => ({ audience, listOnly: !usesProperty(audience) }));
  const audiences =
    input.audiences && propertyNames ? input.audiences.map((a, i) => ({ id: a.id, propertyName: propertyNames[i] })) : undefined;
  const result = await acts.writeListMemberships.executeWithOptions(
    {
      startToCloseTimeout: '1 hour',
      heartbeatTimeout: input.options?.heartbeatTimeoutMs ?? DEFAULT_ACTIVATION_OPTIONS.heartbeatTimeoutMs,
      retry,
      summary: `Write the memberships of ${lists.length === 1 ? `the list of audience "${escapeMarkdown(lists[0].audience.name)}"` : `${lists.length} lists`}`,
    },
    [
      {
        activationId: input.activationId,
        destinationId: input.destinationId,
        ...(portalId !== undefined ? { portalId } : {}),
        audienceId: input.audience.id,
        propertyName,
        ...(audiences ? { audiences } : {}),
        lists,
        source: input.source,
        ...(input.options?.exitMissing ? { exitMissing: true } : {}),
        ...(input.options?.pageSize ? { pageSize: input.options.pageSize } : {}),
      },
    ],
  );
  run.lists = result.lists;
  showDetails(run);
}

/** `exitMissing`: after the last page, `exited` for remembered members the snapshot no longer holds. */
async function writeExits(run: ActivationState, input: ActivationInput): Promise<void> {
  const { propertyName, propertyNames, portalId } = run.nextPages();
  // List-only audiences have no status property to write (their leavers left the list in writeLists).
  const audiences = audiencesOf(input)
    .map((a, i) => ({ id: a.id, propertyName: propertyNames?.[i] ?? propertyName, property: usesProperty(a) }))
    .filter((a) => a.property)
    .map(({ id, propertyName: name }) => ({ id, propertyName: name }));
  const { exitsWritten } = await acts.writeExits.executeWithOptions(
    {
      startToCloseTimeout: '1 hour',
      heartbeatTimeout: input.options?.heartbeatTimeoutMs ?? 30_000,
      retry,
      summary: 'Write exited for remembered members the snapshot no longer holds',
    },
    [{ activationId: input.activationId, destinationId: input.destinationId, ...(portalId !== undefined ? { portalId } : {}), audiences }],
  );
  run.exitsWritten = exitsWritten;
}

/** Cross-checks the counts with the stored rejections and reports the outcome. */
async function finish(run: ActivationState, input: ActivationInput): Promise<ActivationSummary> {
  run.phase = 'finishing';
  showDetails(run);
  await acts.summarizeActivation.executeWithOptions({ ...setupOptions, summary: 'Cross-check counts with stored rejections' }, [
    // Rejections the lists stored are counted there, not in the delivery counts (those members were upserted).
    {
      activationId: input.activationId,
      counts: run.lists ? { ...run.counts, rejected: run.counts.rejected + run.listRejected } : run.counts,
    },
  ]);
  const status = run.outcome;
  run.phase = 'completed';
  setStatus(status === 'completed' ? 'Completed' : 'CompletedWithRejections');
  showDetails(run);
  await alert(run, input, status === 'completed' ? 'activation.completed' : 'activation.completed_with_rejections', 'completed', {
    status,
  });
  return run.summary(new Date().toISOString());
}

/** Ends the run failed, with the activity's own message (what to fix) as the workflow's failure. */
async function fail(run: ActivationState, input: ActivationInput, err: unknown): Promise<never> {
  run.phase = 'failed';
  await CancellationScope.nonCancellable(() => recordClosedRun(run, input, 'failed'));
  setStatus('Failed');
  showDetails(run);
  const cause = applicationCause(err);
  await alert(run, input, 'activation.failed', 'failed', {
    status: 'failed',
    failure: { type: cause?.type ?? (err as Error).name, message: (cause ?? (err as Error)).message },
  });
  if (cause)
    throw ApplicationFailure.create({
      type: cause.type ?? 'ActivationFailed',
      message: cause.message,
      nonRetryable: true,
      details: cause.details as unknown[] | undefined,
    });
  throw err;
}
