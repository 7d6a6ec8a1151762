/**
 * Activities of the streaming path: flush a batch of buffered updates to HubSpot, or store a batch as
 * rejected when its flush failed for good. Same HubSpot access (token, shared rate budget) and the same
 * validation, isolation and rejection store as batch activations.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DailyLimitHitError } from '../src/delivery/send-batch';
import type { PropertyCache } from '../src/destinations/property-cache';
import { DailyBudgetExhaustedError } from '../src/governor/governor';
import type { HubSpotClient } from '../src/hubspot/client';
import { activatedAudiencesOf, flushUpdates, storeStreamRejections } from '../src/streaming/flush';
import type { StreamMemory } from '../src/streaming/memory';
import type { StreamHolds } from '../src/streaming/holds';
import { emptyFlushCounts, type FlushCounts, type FlushStreamInput, type RejectStreamInput } from '../src/streaming/types';
import { nextMidnightIn } from '../src/util/time-zone';
import type { AudienceRef } from '../workflows/types';
import { accountKeyOf, clientFor, loadDestination, toFailure, type HubSpotAccessDeps } from './hubspot-access';
import type { SqlRejectionStore } from '../src/store/rejections';
import type { ServiceMetrics } from '../src/metrics/service-metrics';

/** Retryable: the stream waits for HubSpot's daily reset by retrying the flush after it. */
export const STREAM_DAILY_LIMIT = 'StreamDailyLimitReached';

export interface StreamActivityDeps extends HubSpotAccessDeps {
  rejections: SqlRejectionStore;
  streamMemory?: StreamMemory;
  streamHolds?: StreamHolds;
  metrics?: ServiceMetrics;
}

export interface StreamShared {
  cache: PropertyCache;
  cacheKey(d: { id: string; portalId: number }): string;
  ensureAudienceProperty(input: { destinationId: string; audience: AudienceRef }): Promise<{ propertyName: string }>;
}

export function createStreamActivities(deps: StreamActivityDeps, shared: StreamShared) {
  return {
    /** Flushes ≤ 100 buffered updates; heartbeats so a dead worker's batch is retried elsewhere soon. */
    async flushStreamBatch(input: FlushStreamInput): Promise<FlushCounts> {
      const memory = deps.streamMemory;
      if (!memory)
        throw ApplicationFailure.create({
          type: 'StreamNotConfigured',
          message: 'This worker has no stream memory store.',
          nonRetryable: true,
        });
      const ctx = Context.current();
      const interval = setInterval(() => ctx.heartbeat(), Math.max(300, Math.min(10_000, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3)));
      let client: HubSpotClient | undefined;
      let timeZone = 'UTC';
      let portalId: number | undefined;
      try {
        const d = await loadDestination(deps, input.destinationId);
        timeZone = d.timeZone;
        portalId = d.portalId;
        client = clientFor(deps, d, { signal: ctx.cancellationSignal });
        const activated = await deps.destinations.audiences(d.id);
        const audiences = new Map(activated.map((a) => [a.audienceId, a.propertyName]));
        let properties = await shared.cache.get(shared.cacheKey(d), client);
        // An audience activated after its property was last seen here gets it ensured before its first value.
        const named = new Set(input.updates.flatMap((u) => activatedAudiencesOf(u, audiences)));
        for (const a of activated) {
          if (!named.has(a.audienceId) || properties.has(a.propertyName)) continue;
          await shared.ensureAudienceProperty({ destinationId: d.id, audience: { id: a.audienceId, name: a.audienceName } });
          properties = await shared.cache.get(shared.cacheKey(d), client);
        }
        const counts = await flushUpdates(input.updates, {
          destinationId: d.id,
          keyPrefix: input.keyPrefix,
          mapping: d.mapping,
          properties,
          audiences,
          client,
          rejections: deps.rejections,
          memory,
          send: { signal: ctx.cancellationSignal },
        });
        deps.metrics?.recordContacts('stream', {
          upserted: counts.sent,
          rejected: counts.rejected,
          rejectedByReason: counts.rejectedByReason,
          skippedByReason: { ...counts.ignoredByReason, ...(counts.stale ? { STALE: counts.stale } : {}) },
        });
        return counts;
      } catch (err) {
        // Cancelled (the stream continues as new): report it as such, not as a HubSpot error to retry.
        if (ctx.cancellationSignal.aborted)
          throw ctx.cancellationSignal.reason instanceof CancelledFailure
            ? ctx.cancellationSignal.reason
            : new CancelledFailure('Flush cancelled');
        if ((err instanceof DailyBudgetExhaustedError || err instanceof DailyLimitHitError) && portalId !== undefined) {
          const resetsAt = (err instanceof DailyBudgetExhaustedError ? err.resetsAt : undefined) ?? (await dailyReset(client, timeZone));
          await deps.governor.markDailyExhausted(accountKeyOf(portalId), resetsAt);
          throw ApplicationFailure.create({
            type: STREAM_DAILY_LIMIT,
            message: `HubSpot's daily API limit for portal ${portalId} is used up until ${new Date(resetsAt).toISOString()}; the flush resumes then.`,
            nextRetryDelay: Math.max(1000, resetsAt - Date.now() + 1000),
          });
        }
        throw toFailure(err);
      } finally {
        clearInterval(interval);
      }
    },

    /** Asks API processes to keep new updates for a moment: the run is about to continue as new. */
    async holdStreamSignals(input: { destinationId: string; forMs: number }): Promise<void> {
      await deps.streamHolds?.hold(input.destinationId, input.forMs);
    },

    /** The new run is up: updates may flow again. */
    async releaseStreamSignals(input: { destinationId: string }): Promise<void> {
      await deps.streamHolds?.release(input.destinationId);
    },

    /** A flush failed for good (not a configuration problem): every update in it becomes a stored rejection. */
    async rejectStreamBatch(input: RejectStreamInput): Promise<FlushCounts> {
      const counts = emptyFlushCounts();
      await storeStreamRejections(
        { destinationId: input.destinationId, keyPrefix: input.keyPrefix, rejections: deps.rejections },
        input.updates.map((update) => ({
          update,
          reason: { code: input.reason.code, message: input.reason.message, origin: 'hubspot' as const },
        })),
      );
      counts.rejected = input.updates.length;
      counts.rejectedByReason[input.reason.code] = input.updates.length;
      deps.metrics?.recordContacts('stream', { rejected: counts.rejected, rejectedByReason: counts.rejectedByReason });
      return counts;
    },
  };
}

async function dailyReset(client: HubSpotClient | undefined, timeZone: string): Promise<number> {
  try {
    const usage = await client?.getDailyUsage();
    const at = usage?.resetsAt ? Date.parse(usage.resetsAt) : NaN;
    if (Number.isFinite(at) && at > Date.now()) return at;
  } catch {
    // HubSpot's usage endpoint is a nicety; midnight in the portal's zone is the documented rule.
  }
  return nextMidnightIn(timeZone);
}

export type StreamActivities = ReturnType<typeof createStreamActivities>;
