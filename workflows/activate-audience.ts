/**
 * One activation run of an audience on a destination (orchestration only: every side effect is an
 * activity). Steps, each visible in the Web UI: validate token → ensure the audience property (and
 * re-check the mapping) → page through members, upserting each page → summary.
 *
 * History stays bounded: pages carry cursors and counts, never contact data, and the run continues as
 * new before its history grows large, carrying cursor and counts.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  ContinueAsNew,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { Activities } from '../activities';
import type { AlertEvent, AlertEventName } from '../src/alerts/events';
import { addCounts, emptyCounts } from '../src/delivery/counts';
import { START_CURSOR } from '../src/members/types';
import { ActivationStatusKey, AudienceIdKey, DestinationIdKey, type ActivationStatusValue } from '../src/temporal/search-attributes';
import {
  DAILY_LIMIT_FAILURE,
  NON_RETRYABLE_TYPES,
  type ActivationCarry,
  type ActivationInput,
  type ActivationPhase,
  type ActivationProgress,
  type ActivationSummary,
  type DailyLimitDetails,
} from './types';
import { emitAlert } from './alerts';

export const progressQuery = defineQuery<ActivationProgress>('progress');

const DEFAULT_MAX_HISTORY_EVENTS = 2000;

const retry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '2 minutes',
  nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES, DAILY_LIMIT_FAILURE] as string[],
};

const setupOptions: ActivityOptions = { startToCloseTimeout: '2 minutes', retry: { ...retry, maximumAttempts: 20 } };

function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;
}

export async function activateAudience(input: ActivationInput): Promise<ActivationSummary> {
  const { activationId, destinationId, audience, source } = input;
  const opts = input.options ?? {};
  const pageOptions: ActivityOptions = {
    // A page can wait long for HubSpot's budget; a dead worker is noticed through missed heartbeats.
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: opts.heartbeatTimeoutMs ?? 30_000,
    retry,
    // Pages go through the task queue to whichever worker is free, not eagerly to this one: load spreads
    // over all workers (they share HubSpot's budget through the governor anyway).
    allowEagerDispatch: false,
  };
  const acts = proxyActivities<Activities>(setupOptions);

  let carry: ActivationCarry | undefined = input.carry;
  let phase: ActivationPhase = carry ? 'sending' : 'starting';
  let counts = carry?.counts ?? emptyCounts();
  let pagesDone = carry?.pagesDone ?? 0;
  let waitingUntil: string | undefined;
  let waitReason: string | undefined;
  const startedAt = carry?.startedAt ?? new Date().toISOString();
  const runs = (carry?.runsSoFar ?? 0) + 1;

  setHandler(progressQuery, () => ({
    activationId,
    destinationId,
    audience,
    phase,
    pagesDone,
    totalRecords: carry?.totalRecords,
    counts,
    startedAt,
    waitingUntil,
    waitReason,
    runs,
    activityCursor: phase === 'sending' || phase === 'waiting-daily-limit' ? carry?.cursor : undefined,
  }));

  const setStatus = (status: ActivationStatusValue) => upsertSearchAttributes([{ key: ActivationStatusKey, value: status }]);
  const showDetails = () => {
    const total = carry?.totalRecords;
    const lines = [
      `**${audience.name}** → destination \`${destinationId}\``,
      `Phase: ${phase}${waitingUntil ? ` until ${waitingUntil} (${waitReason})` : ''}`,
      `Members read: ${counts.received}${total !== undefined ? ` of ${total}` : ''} · pages: ${pagesDone} · run ${runs}`,
      `Upserted: ${counts.upserted} (created ${counts.created}, updated ${counts.updated}) · rejected: ${counts.rejected} · skipped: ${counts.skipped}`,
    ];
    if (counts.rejected)
      lines.push(
        `Rejections: ${Object.entries(counts.rejectedByReason)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    setCurrentDetails(lines.join('\n\n'));
  };

  // Alerts (workflows/alerts.ts): delivered by abandoned child workflows; never delay or fail the run.
  const alert = async (type: AlertEventName, key: string, extra: Partial<AlertEvent> = {}): Promise<void> => {
    if (!patched('alerts-v1')) return;
    const { workflowId, runId } = workflowInfo();
    const { received, upserted, created, updated, rejected, skipped, rejectedByReason } = counts;
    await emitAlert(
      {
        type,
        destinationId,
        activationId,
        audience,
        workflowId,
        runId,
        occurredAt: new Date().toISOString(),
        counts: { received, upserted, created, updated, rejected, skipped, rejectedByReason },
        totalRecords: carry?.totalRecords,
        ...extra,
      },
      key,
    );
  };

  // Set on every run: workflows started without them (e.g. by hand) are still findable.
  upsertSearchAttributes([
    { key: DestinationIdKey, value: destinationId },
    { key: AudienceIdKey, value: audience.id },
    { key: ActivationStatusKey, value: 'Running' },
  ]);

  try {
    if (!carry) {
      await alert('activation.started', 'started', { status: 'running' });
      phase = 'validating';
      showDetails();
      await acts.validateConnection.executeWithOptions({ ...setupOptions, summary: 'Check the HubSpot token and its scopes' }, [
        { destinationId },
      ]);
      phase = 'ensuring-property';
      showDetails();
      const { propertyName } = await acts.ensureAudienceProperty.executeWithOptions(
        { ...setupOptions, summary: `Ensure the status property of audience "${audience.name}" and re-check the mapping` },
        [{ destinationId, audience }],
      );
      const { totalRecords } = await acts.describeSource.executeWithOptions({ ...setupOptions, summary: 'Count the members to send' }, [
        { source },
      ]);
      carry = { cursor: START_CURSOR, counts, pagesDone, runsSoFar: 0, startedAt, propertyName, totalRecords };
    }

    phase = 'sending';
    let done = false;
    while (!done) {
      showDetails();
      const from = carry.cursor;
      let result;
      try {
        result = await acts.processPages.executeWithOptions(
          { ...pageOptions, summary: `Upsert members from line ${from.line} (page ${pagesDone + 1} on)` },
          [
            {
              activationId,
              destinationId,
              audience,
              propertyName: carry.propertyName,
              source,
              cursor: from,
              pageSize: opts.pageSize,
              concurrency: opts.upsertConcurrency,
              maxPages: opts.pagesPerActivity,
              maxMillis: opts.activityMaxMillis,
            },
          ],
        );
      } catch (err) {
        if (failureType(err) !== DAILY_LIMIT_FAILURE) throw err;
        // Wait durably for HubSpot's daily reset instead of burning retries, then resume where it stopped
        // (the activity's checkpoint is in the store).
        const details = ((err as ActivityFailure).cause as ApplicationFailure).details?.[0] as DailyLimitDetails;
        phase = 'waiting-daily-limit';
        waitingUntil = details.resetsAt;
        waitReason = "HubSpot's daily API limit is used up";
        setStatus('WaitingDailyLimit');
        showDetails();
        await alert('activation.waiting_daily_limit', `waiting-${Date.parse(details.resetsAt)}`, {
          status: 'waiting',
          waitingUntil: details.resetsAt,
        });
        const waitMs = Math.max(1000, Date.parse(details.resetsAt) - Date.now() + 1000);
        await sleep(waitMs, { summary: `Wait for HubSpot's daily limit to reset at ${details.resetsAt}` });
        phase = 'sending';
        waitingUntil = undefined;
        waitReason = undefined;
        setStatus('Running');
        continue;
      }
      counts = addCounts(counts, result.counts);
      pagesDone += result.pages;
      done = result.done;
      carry = { ...carry, cursor: result.next, counts, pagesDone };

      const info = workflowInfo();
      if (!done && (info.continueAsNewSuggested || info.historyLength >= (opts.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS))) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof activateAudience>({ ...input, carry: { ...carry, runsSoFar: runs } });
      }
    }

    phase = 'finishing';
    showDetails();
    await acts.summarizeActivation.executeWithOptions({ ...setupOptions, summary: 'Cross-check counts with stored rejections' }, [
      { activationId, counts },
    ]);
    const status = counts.rejected > 0 ? 'completed_with_rejections' : 'completed';
    phase = 'completed';
    setStatus(status === 'completed' ? 'Completed' : 'CompletedWithRejections');
    showDetails();
    await alert(status === 'completed' ? 'activation.completed' : 'activation.completed_with_rejections', 'completed', { status });
    return {
      activationId,
      destinationId,
      audience,
      status,
      ...counts,
      pages: pagesDone,
      runs,
      startedAt,
      finishedAt: new Date().toISOString(),
    };
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (isCancellation(err)) {
      phase = 'cancelled';
      await CancellationScope.nonCancellable(async () => {
        setStatus('Cancelled');
        showDetails();
      });
      throw err;
    }
    phase = 'failed';
    setStatus('Failed');
    showDetails();
    // Surface the activity's own message (what to fix) as the workflow's failure.
    const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    await alert('activation.failed', 'failed', {
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
}
