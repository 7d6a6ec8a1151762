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
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { Activities } from '../activities';
import { chunkForCarry, StreamBuffer } from '../src/streaming/buffer';
import {
  addFlushCounts,
  DEFAULT_STREAM_OPTIONS,
  emptyStreamCounters,
  MAX_PAYLOAD_CHARS,
  resolveStreamOptions,
  type BufferedUpdate,
  type FlushCounts,
  type ProfilesSignal,
  type StreamInput,
  type StreamOptions,
  type StreamStats,
  type StreamUpdate,
} from '../src/streaming/types';
import { emitAlert } from './alerts';
import { NON_RETRYABLE_TYPES } from './types';

export const profilesSignal = defineSignal<[ProfilesSignal]>('profiles');
export const pauseStreamSignal = defineSignal<[{ reason?: string }?]>('pauseStream');
export const resumeStreamSignal = defineSignal('resumeStream');
export const configureStreamSignal = defineSignal<[Partial<StreamOptions>]>('configureStream');
export const streamStatsQuery = defineQuery<StreamStats>('streamStats');

/** Final failures that mean "fix the destination": pause (updates kept) instead of rejecting the batch. */
const PAUSE_ON = new Set([
  'HubSpotAuthFailed',
  'HubSpotMissingScopes',
  'HubSpotMappingInvalid',
  'HubSpotPropertyConflict',
  'DestinationNotFound',
  'StreamNotConfigured',
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
/** After setting the hold, signals already on the wire still land; let them, then close the run. */
const HANDOFF_SETTLE_MS = 200;

function failureOf(err: unknown): { type: string; message: string } | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
    return { type: err.cause.type ?? 'ActivityFailed', message: err.cause.message };
  return undefined;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function destinationStream(input: StreamInput, ...carried: BufferedUpdate[][]): Promise<void> {
  const { destinationId, carry } = input;
  let opts = resolveStreamOptions(DEFAULT_STREAM_OPTIONS, input.options);
  let counters = carry?.counters ?? emptyStreamCounters();
  let paused = carry?.paused ?? false;
  let pausedReason = carry?.pausedReason;
  let pausedBy = carry?.pausedBy ?? (paused ? 'operator' : undefined);
  let lagAlerts = carry?.lagAlerts ?? 0;
  let lagAlerted = carry?.lagAlerted ?? false;
  /** Alert emissions started and not finished (awaited before continue-as-new). */
  const emitting = new Set<Promise<unknown>>();
  let nextSeq = carry?.nextSeq ?? 1;
  let lastFlushAt = carry?.lastFlushAt;
  const startedAt = carry?.startedAt ?? new Date().toISOString();
  const runs = (carry?.runsSoFar ?? 0) + 1;
  // Rejection keys must stay unique if the stream is ever started afresh (new chain, new prefix).
  const keyPrefix = workflowInfo().firstExecutionRunId.slice(0, 8);

  const buffer = new StreamBuffer(carried.flat());
  const flights = new Map<number, { scope: CancellationScope; size: number; oldest: number }>();
  let flightSeq = 0;
  let inFlight = 0;
  /** Bumped by events the main loop must react to (pause, resume, options, a flush ending). */
  let wake = 0;
  let draining = false;

  const acts = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes' });
  // Updates were held for the handoff from the previous run: let them flow again (without waiting for it).
  const released = carry?.held
    ? acts.releaseStreamSignals
        .executeWithOptions({ ...holdOptions, summary: 'Let held updates flow again' }, [{ destinationId }])
        .catch(() => undefined)
    : Promise.resolve();

  setHandler(profilesSignal, (signal) => {
    // Sent by the API, but anyone with access can signal: a malformed update must not wedge the stream.
    const updates: unknown[] = Array.isArray(signal?.updates) ? signal.updates : [];
    const r = Math.min(typeof signal?.at === 'number' ? signal.at : Date.now(), Date.now());
    for (const item of updates) {
      counters.received++;
      const u = item as StreamUpdate;
      if (!u || typeof u !== 'object' || typeof u.t !== 'number' || typeof u.s !== 'object' || typeof u.v !== 'object' || !u.s || !u.v) {
        counters.ignored++;
        counters.ignoredByReason = { ...counters.ignoredByReason, MALFORMED_UPDATE: (counters.ignoredByReason.MALFORMED_UPDATE ?? 0) + 1 };
        continue;
      }
      const outcome = buffer.add({ ...u, n: nextSeq++, r });
      if (outcome === 'merged') counters.merged++;
      else if (outcome === 'stale') counters.stale++;
    }
  });
  setHandler(pauseStreamSignal, (p) => {
    paused = true;
    pausedReason = p?.reason ?? 'Paused by an operator';
    pausedBy = 'operator';
    wake++;
  });
  setHandler(resumeStreamSignal, () => {
    paused = false;
    pausedReason = undefined;
    pausedBy = undefined;
    wake++;
  });
  setHandler(configureStreamSignal, (change) => {
    opts = resolveStreamOptions(opts, change);
    wake++;
  });

  const oldestPending = (): number | undefined => {
    let oldest = buffer.oldestAt();
    for (const f of flights.values()) if (oldest === undefined || f.oldest < oldest) oldest = f.oldest;
    return oldest;
  };
  const stats = (): StreamStats => {
    const oldest = oldestPending();
    return {
      ...counters,
      destinationId,
      // What operators care about first: paused; `draining` is the brief handoff of a running stream.
      state: paused ? 'paused' : draining ? 'draining' : 'running',
      ...(pausedReason ? { pausedReason } : {}),
      buffered: buffer.size,
      bufferedBytes: buffer.totalChars,
      inFlight,
      flushesInFlight: flights.size,
      ...(oldest !== undefined ? { oldestBufferedAt: new Date(oldest).toISOString() } : {}),
      ...(lastFlushAt ? { lastFlushAt } : {}),
      options: opts,
      runs,
      historyLength: workflowInfo().historyLength,
      startedAt,
    };
  };
  setHandler(streamStatsQuery, stats);

  const showDetails = () => {
    const s = stats();
    const lines = [
      `Destination \`${destinationId}\` · ${s.state}${pausedReason ? ` (${pausedReason})` : ''} · run ${runs}`,
      `Received ${s.received} · sent ${s.sent} · rejected ${s.rejected} · ignored ${s.ignored} · merged ${s.merged} · stale ${s.stale}`,
      `Buffered ${s.buffered} · in flight ${s.inFlight} (${plural(s.flushesInFlight, 'flush')}) · flushes ${s.flushes}${lastFlushAt ? ` · last ${lastFlushAt}` : ''}`,
      `Latency bound ${opts.maxLatencyMs} ms · batch ${opts.batchSize} · ≤ ${opts.maxConcurrentFlushes} flushes at once`,
    ];
    if (s.rejected)
      lines.push(
        `Rejections: ${Object.entries(s.rejectedByReason)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    setCurrentDetails(lines.join('\n\n'));
  };

  const settle = (batch: BufferedUpdate[], counts: FlushCounts) => {
    buffer.release(batch);
    inFlight -= batch.length;
    counters = addFlushCounts(counters, counts);
    counters.flushes++;
    lastFlushAt = new Date().toISOString();
  };
  /** A batch that was not sent goes back to the buffer, under the same merge rules. */
  const giveBack = (batch: BufferedUpdate[]) => {
    buffer.release(batch);
    inFlight -= batch.length;
    const { merged, stale } = buffer.restore(batch);
    counters.merged += merged;
    counters.stale += stale;
  };
  const pause = (reason: string) => {
    paused = true;
    pausedReason = reason;
    pausedBy = 'error';
  };

  // Lag alert: once each time the oldest unsent update crosses `lagAlertMs` (an operator's pause is
  // deliberate: no alert then); re-armed when the lag falls under half the threshold.
  const lagAlertAt = (): number => {
    const oldest = oldestPending();
    if (oldest === undefined || lagAlerted || (paused && pausedBy === 'operator')) return Infinity;
    return oldest + opts.lagAlertMs;
  };
  const checkLag = () => {
    const oldest = oldestPending();
    const lagMs = oldest === undefined ? 0 : Date.now() - oldest;
    if (lagMs < opts.lagAlertMs / 2) lagAlerted = false;
    if (lagAlertAt() > Date.now()) return;
    lagAlerted = true;
    lagAlerts++;
    const { workflowId, runId } = workflowInfo();
    const emitted = emitAlert(
      {
        type: 'stream.lag_above_threshold',
        destinationId,
        workflowId,
        runId,
        occurredAt: new Date().toISOString(),
        ...(paused ? { status: 'paused' } : {}),
        stream: { lagMs, thresholdMs: opts.lagAlertMs, buffered: buffer.size + inFlight },
      },
      `lag-${lagAlerts}`,
    );
    emitting.add(emitted);
    void emitted.finally(() => emitting.delete(emitted));
  };

  async function runFlush(batch: BufferedUpdate[]): Promise<void> {
    const input = { destinationId, keyPrefix, updates: batch };
    try {
      const counts = await acts.flushStreamBatch.executeWithOptions(
        {
          startToCloseTimeout: '10 minutes',
          heartbeatTimeout: opts.heartbeatTimeoutMs,
          retry: flushRetry,
          summary: `Flush ${plural(batch.length, 'update')} to HubSpot`,
        },
        [input],
      );
      settle(batch, counts);
      return;
    } catch (err) {
      if (isCancellation(err)) return giveBack(batch);
      const failure = failureOf(err);
      if (!failure || PAUSE_ON.has(failure.type)) {
        giveBack(batch);
        return pause(failure ? `${failure.type}: ${failure.message}` : 'A flush failed unexpectedly; see the Web UI');
      }
      try {
        const counts = await acts.rejectStreamBatch.executeWithOptions(
          { ...rejectOptions, summary: `Store ${plural(batch.length, 'update')} as rejected (${failure.type})` },
          [{ ...input, reason: { code: failure.type, message: failure.message } }],
        );
        settle(batch, counts);
      } catch (err2) {
        giveBack(batch);
        if (!isCancellation(err2)) pause('Storing rejected updates failed; see the Web UI');
      }
    }
  }

  const startFlush = () => {
    const batch = buffer.take(opts.batchSize, MAX_PAYLOAD_CHARS);
    const id = ++flightSeq;
    const scope = new CancellationScope();
    flights.set(id, { scope, size: batch.length, oldest: Math.min(...batch.map((u) => u.r)) });
    inFlight += batch.length;
    void scope
      .run(() => runFlush(batch))
      .finally(() => {
        flights.delete(id);
        wake++;
      });
  };

  const shouldContinueAsNew = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= opts.maxHistoryEvents;
  };
  const dueAt = () => {
    if (paused) return Infinity;
    const oldest = buffer.oldestReadyAt();
    return oldest === undefined ? Infinity : oldest + opts.maxLatencyMs;
  };
  const canFlush = () =>
    !paused &&
    !draining &&
    flights.size < opts.maxConcurrentFlushes &&
    buffer.readyCount > 0 &&
    (buffer.readyCount >= opts.batchSize || dueAt() <= Date.now());

  // The lag watch runs beside the loop: at most one timer per threshold period, none while nothing waits.
  void (async () => {
    for (;;) {
      await condition(() => lagAlertAt() !== Infinity);
      const at = lagAlertAt();
      if (at > Date.now()) await condition(() => lagAlertAt() < at, at - Date.now());
      checkLag();
    }
  })();

  while (!shouldContinueAsNew()) {
    checkLag();
    if (canFlush()) {
      startFlush();
      continue;
    }
    showDetails();
    // Next flush deadline, only if a slot is free (a flush ending wakes the loop anyway).
    const seen = wake;
    const nextAt = () => (flights.size < opts.maxConcurrentFlushes ? dueAt() : Infinity);
    const target = nextAt();
    const wakeUp = () => wake !== seen || canFlush() || nextAt() < target || shouldContinueAsNew();
    if (target === Infinity) await condition(wakeUp);
    else await condition(wakeUp, Math.max(1, target - Date.now()));
  }

  // Continue as new: let flushes finish (or cancel them: their updates go back to the buffer), then carry.
  draining = true;
  showDetails();
  if (flights.size > 0 && !(await condition(() => flights.size === 0, opts.drainTimeoutMs))) {
    for (const f of flights.values()) f.scope.cancel();
    await condition(() => flights.size === 0);
  }
  await released;
  // A run cannot close while signals keep arriving: ask the API to hold them for the handoff.
  await acts.holdStreamSignals.executeWithOptions({ ...holdOptions, summary: 'Hold new updates while handing over to the next run' }, [
    { destinationId, forMs: HANDOFF_HOLD_MS },
  ]);
  await sleep(HANDOFF_SETTLE_MS);
  await condition(allHandlersFinished);
  await Promise.all([...emitting]);
  const next: StreamInput = {
    destinationId,
    options: opts,
    carry: {
      counters,
      paused,
      pausedReason,
      pausedBy,
      lagAlerts,
      lagAlerted,
      nextSeq,
      runsSoFar: runs,
      startedAt,
      lastFlushAt,
      held: true,
    },
  };
  await continueAsNew<typeof destinationStream>(next, ...chunkForCarry(buffer.snapshot(), MAX_PAYLOAD_CHARS));
}
