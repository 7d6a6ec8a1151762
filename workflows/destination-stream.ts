/**
 * The always-on dataflow of one destination (workflow id `stream-<destinationId>`): receives profile
 * updates by signal, buffers them by email and flushes batches of ≤ 100 to HubSpot when the buffer is
 * full or its oldest update reaches the latency bound. Orchestration only: every side effect is an
 * activity. Several flushes may run at once, never two with the same email.
 *
 * Nothing is lost: updates are in history once signalled; flushes retry transient errors forever; a
 * configuration error (token, scopes, mapping) pauses the stream with the updates kept; any other final
 * error stores the batch as rejections. History stays bounded: the run continues as new (after its
 * flushes and handlers finish) carrying buffer and counters, the buffer split over several payloads.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { Activities } from '../activities';
import type { BufferedUpdate, FlushStreamInput, OrphanSweep, PendingUpdate, StreamInput } from '../src/streaming/types';
import { packSeqLists, toWire } from '../src/streaming/wire';
import { emitAlert } from './alerts';
import { configureStreamSignal, pauseStreamSignal, profilesSignal, resumeStreamSignal, streamStatsQuery } from './messages';
import { StreamState } from './stream-state';
import { Failure } from '../src/failures';
import { NON_RETRYABLE_TYPES } from './types';

/** Final failures that mean "fix the destination": pause (updates kept) instead of rejecting the batch. */
const PAUSE_ON = new Set<string>([
  Failure.HubSpotAuthFailed.type,
  Failure.HubSpotMissingScopes.type,
  Failure.HubSpotMappingInvalid.type,
  Failure.HubSpotPropertyConflict.type,
  Failure.DestinationNotFound.type,
  Failure.DestinationPortalChanged.type,
]);

const flushRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  // Unlimited attempts: transient HubSpot errors, rate limits and the daily limit are waited out.
  nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES] as string[],
};

const rejectOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
};
const holdOptions: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
};

/** How long API processes keep new updates while the run hands over (a lease: it expires by itself). */
const HANDOFF_HOLD_MS = 3000;
/**
 * After setting the hold, signals already on the wire still land; let them, then close the run. Before
 * patch `stream-quick-handoff`: a workflow timer after the hold activity (200 ms asked, 300–330 ms
 * measured under load, plus a workflow task to start it).
 */
const HANDOFF_SETTLE_MS = 200;
/**
 * Patch `stream-quick-handoff` (decision 30): the settle runs inside the hold activity, on the worker's
 * clock, right after the hold is written (no timer, no extra workflow task), and the next run lifts the
 * hold with a local activity inside its first workflow task (no activity task round trip). What API
 * processes hold shrinks from ~480 ms to ~200 ms a handoff. A signal that still races the close costs a
 * retried workflow task, never an update (the hold stays until the next run lifts it, or its lease ends).
 */
export const QUICK_HANDOFF_PATCH = 'stream-quick-handoff';
/**
 * The settle inside the hold activity (patch `stream-quick-handoff`): 70 ms since decision 34 (was 100).
 * Shorter holds answer the API sooner, but at 40 ms signals still on the wire raced the close at
 * 2,000 updates/s (replays, the stream fell behind, thousands of 429s); 70 ms kept both rates whole.
 * An activity input, not a command: histories recorded with 100 replay unchanged.
 */
export const HANDOFF_SETTLE_IN_HOLD_MS = 70;

const acts = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes' });
const localActs = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '100 milliseconds', maximumInterval: '2 seconds', maximumAttempts: 5 },
});

function failureOf(err: unknown): { type: string; message: string } | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
    return { type: err.cause.type ?? 'ActivityFailed', message: err.cause.message };
  return undefined;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function destinationStream(input: StreamInput, ...carried: Array<BufferedUpdate[] | string>): Promise<void> {
  const state = new StreamState(input, carried, Date.now());
  // A cancel request (from anywhere) cancels only the root scope: the stream runs in a non-cancellable
  // one and pauses (updates kept) instead. Temporal records one cancel request per run: a later cancel
  // in the same run changes nothing (the stream keeps running); the next run can be paused by one again.
  CancellationScope.current().cancelRequested.catch(() => state.pauseOnCancel());
  await CancellationScope.nonCancellable(() => runStream(state, input));
}

/** Patch: a flush starts at once when none is in flight (older histories waited for the latency bound). */
export const FLUSH_WHEN_IDLE_PATCH = 'stream-flush-when-idle';

/**
 * Patch: the run also continues as new when its history reaches MAX_RUN_HISTORY_BYTES, so that no history
 * page (a page holds up to a few thousand events, here a whole run) exceeds 1 MB. Decision 26.
 */
export const HISTORY_BYTES_PATCH = 'stream-history-bytes';
/**
 * What a run's history, plus the continue-as-new event it would write now (its carried buffer, estimated
 * by `StreamState.carryBytes`), may reach before it hands over; the handoff's own events (draining
 * flushes, signals still landing) must fit in the rest of 1 MB.
 */
export const MAX_RUN_HISTORY_BYTES = 600_000;
/** The bound before patch `stream-history-margin`. */
export const MAX_RUN_HISTORY_BYTES_BEFORE_MARGIN = 800_000;
export const MIN_RUN_PROGRESS_BYTES = 200_000;
/**
 * Patch: hand over at 600 KB instead of 800 KB. What lands after the bound is reached — signals while the
 * run drains its flushes, before the API holds them — grows with the machine's load: a loaded CI run
 * measured ~300 KB of it, a 1.1 MB page (decision 31).
 */
export const HISTORY_MARGIN_PATCH = 'stream-history-margin';

async function runStream(state: StreamState, input: StreamInput): Promise<void> {
  state.flushWhenIdle = patched(FLUSH_WHEN_IDLE_PATCH);
  if (patched(HISTORY_BYTES_PATCH)) {
    const bound = patched(HISTORY_MARGIN_PATCH) ? MAX_RUN_HISTORY_BYTES : MAX_RUN_HISTORY_BYTES_BEFORE_MARGIN;
    state.maxRunHistoryBytes = Math.max(bound, workflowInfo().historySize + MIN_RUN_PROGRESS_BYTES);
  }
  const released = input.carry?.held ? releaseHeldSignals(state.destinationId, patched(QUICK_HANDOFF_PATCH)) : Promise.resolve();
  handleMessages(state);
  const alerts = new AlertsInFlight();
  void watchLag(state, alerts);
  // Rejection keys must stay unique if the stream is ever started afresh (new chain, new prefix).
  const flushes = new Flushes(state, workflowInfo().firstExecutionRunId.slice(0, 8));

  await flushUntilContinueAsNew(state, flushes, alerts);
  await flushes.drain();
  await released;
  await handOver(state.destinationId);
  await alerts.settled();
  await continueAsNew<typeof destinationStream>(...state.nextRun());
}

/**
 * Updates were held for the handoff from the previous run: let them flow again (without waiting for it).
 * `local`: inside this run's first workflow task (patch `stream-quick-handoff`); else an activity task.
 * A release that fails for good leaves the hold to its lease (3 s).
 */
function releaseHeldSignals(destinationId: string, local: boolean): Promise<unknown> {
  if (local) return localActs.releaseStreamSignals({ destinationId }).catch(() => undefined);
  return acts.releaseStreamSignals
    .executeWithOptions({ ...holdOptions, summary: 'Let held updates flow again' }, [{ destinationId }])
    .catch(() => undefined);
}

function handleMessages(state: StreamState): void {
  setHandler(profilesSignal, (signal) => state.receive(signal, Date.now()));
  setHandler(pauseStreamSignal, (p) => state.pauseByOperator(p?.reason));
  setHandler(resumeStreamSignal, () => state.resume());
  setHandler(configureStreamSignal, (change) => state.configure(change));
  setHandler(streamStatsQuery, () => state.stats(workflowInfo().historyLength));
}

const showDetails = (state: StreamState) => setCurrentDetails(state.details(workflowInfo().historyLength));

const shouldContinueAsNew = (state: StreamState) => {
  const info = workflowInfo();
  return (
    info.continueAsNewSuggested || info.historyLength >= state.options.maxHistoryEvents || info.historySize >= state.maxRunHistoryBytes
  );
};

/** Alert emissions started and not finished (awaited before continue-as-new). */
class AlertsInFlight {
  private readonly pending = new Set<Promise<unknown>>();
  add(emitted: Promise<unknown>): void {
    this.pending.add(emitted);
    void emitted.finally(() => this.pending.delete(emitted));
  }
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

function checkLag(state: StreamState, alerts: AlertsInFlight): void {
  const due = state.takeLagAlert(Date.now());
  if (!due) return;
  const { workflowId, runId } = workflowInfo();
  alerts.add(
    emitAlert(
      {
        type: 'stream.lag_above_threshold',
        destinationId: state.destinationId,
        workflowId,
        runId,
        occurredAt: new Date().toISOString(),
        ...(due.paused ? { status: 'paused' } : {}),
        stream: { lagMs: due.lagMs, thresholdMs: due.thresholdMs, buffered: due.buffered },
      },
      due.key,
    ),
  );
}

/** Beside the main loop: at most one timer per threshold period, none while nothing waits. */
async function watchLag(state: StreamState, alerts: AlertsInFlight): Promise<never> {
  for (;;) {
    await condition(() => state.lagAlertAt() !== Infinity);
    const at = state.lagAlertAt();
    if (at > Date.now()) await condition(() => state.lagAlertAt() < at, at - Date.now());
    checkLag(state, alerts);
  }
}

/** The main loop: start flushes while they may start, else sleep until something changes or one is due. */
async function flushUntilContinueAsNew(state: StreamState, flushes: Flushes, alerts: AlertsInFlight): Promise<void> {
  while (!shouldContinueAsNew(state)) {
    checkLag(state, alerts);
    if (state.canFlush(Date.now())) {
      flushes.start();
      continue;
    }
    showDetails(state);
    const seen = state.wakeups;
    const target = state.nextFlushAt();
    const wakeUp = () => state.wakeups !== seen || state.canFlush(Date.now()) || state.nextFlushAt() < target || shouldContinueAsNew(state);
    if (target === Infinity) await condition(wakeUp);
    else await condition(wakeUp, Math.max(1, target - Date.now()));
  }
}

/** The flushes under way, each in its own cancellation scope (draining may cancel them: their updates go back). */
class Flushes {
  private readonly scopes = new Map<number, CancellationScope>();

  constructor(
    private readonly state: StreamState,
    private readonly keyPrefix: string,
  ) {}

  start(): void {
    const { id, batch, done, sweep } = this.state.startFlush(Date.now());
    const scope = new CancellationScope();
    this.scopes.set(id, scope);
    void scope
      .run(() => flush(this.state, batch, done, this.keyPrefix, sweep))
      .finally(() => {
        this.scopes.delete(id);
        this.state.endFlush(id);
      });
  }

  /** Before continue-as-new: let flushes finish, or cancel them after the drain timeout (their updates are carried). */
  async drain(): Promise<void> {
    this.state.draining = true;
    showDetails(this.state);
    if (this.scopes.size > 0 && !(await condition(() => this.scopes.size === 0, this.state.options.drainTimeoutMs))) {
      for (const scope of this.scopes.values()) scope.cancel();
      await condition(() => this.scopes.size === 0);
    }
  }
}

function packedRefs(lists: number[][]): { refsFrom: number; refsPacked: string } {
  const { from, packed } = packSeqLists(lists);
  return { refsFrom: from, refsPacked: packed };
}

/** Sorted inclusive ranges of the numbers (accounted log rows are mostly consecutive). */
function toRanges(seqs: number[]): Array<[number, number]> {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], s);
    else out.push([s, s]);
  }
  return out;
}

/**
 * Sends one batch. Transient errors are retried by Temporal; a configuration error pauses the stream
 * (updates kept); any other final error stores the batch as rejections.
 */
async function flush(state: StreamState, batch: PendingUpdate[], done: number[], keyPrefix: string, sweep?: OrphanSweep): Promise<void> {
  // Updates by reference travel as their ingest-log numbers only; by value (older streams) as before.
  const byRef = batch.filter((u) => u.refs);
  const input: FlushStreamInput = {
    destinationId: state.destinationId,
    keyPrefix,
    updates: batch.filter((u) => !u.refs).map(toWire),
    ...(byRef.length ? packedRefs(byRef.map((u) => u.refs!)) : {}),
    ...(done.length ? { doneRanges: toRanges(done) } : {}),
    ...(sweep ? { sweep } : {}),
  };
  const giveBack = () => {
    state.giveBack(batch);
    state.notDeleted(done);
  };
  try {
    const counts = await acts.flushStreamBatch.executeWithOptions(
      {
        startToCloseTimeout: '10 minutes',
        heartbeatTimeout: state.options.heartbeatTimeoutMs,
        retry: flushRetry,
        summary: `Flush ${plural(batch.length, 'update')} to HubSpot`,
      },
      [input],
    );
    state.settle(batch, counts, Date.now());
    return;
  } catch (err) {
    if (isCancellation(err)) return giveBack();
    const failure = failureOf(err);
    if (!failure || PAUSE_ON.has(failure.type)) {
      giveBack();
      return state.pauseOnError(failure ? `${failure.type}: ${failure.message}` : 'A flush failed unexpectedly; see the Web UI');
    }
    try {
      const counts = await acts.rejectStreamBatch.executeWithOptions(
        { ...rejectOptions, summary: `Store ${plural(batch.length, 'update')} as rejected (${failure.type})` },
        [{ ...input, reason: { code: failure.type, message: failure.message } }],
      );
      state.settle(batch, counts, Date.now());
    } catch (err2) {
      giveBack();
      if (!isCancellation(err2)) state.pauseOnError('Storing rejected updates failed; see the Web UI');
    }
  }
}

/** A run cannot close while signals keep arriving: ask the API to hold them for the handoff. */
async function handOver(destinationId: string): Promise<void> {
  const summary = 'Hold new updates while handing over to the next run';
  if (patched(QUICK_HANDOFF_PATCH)) {
    // The activity writes the hold, then waits for signals already on the wire: they land before it
    // completes, so the workflow task that sees it complete holds them and can close the run.
    await acts.holdStreamSignals.executeWithOptions({ ...holdOptions, summary }, [
      { destinationId, forMs: HANDOFF_HOLD_MS, settleMs: HANDOFF_SETTLE_IN_HOLD_MS },
    ]);
  } else {
    await acts.holdStreamSignals.executeWithOptions({ ...holdOptions, summary }, [{ destinationId, forMs: HANDOFF_HOLD_MS }]);
    await sleep(HANDOFF_SETTLE_MS);
  }
  await condition(allHandlersFinished);
}
