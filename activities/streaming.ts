/**
 * Activities of the streaming path: flush a batch of buffered updates to HubSpot, or store a batch as
 * rejected when its flush failed for good. Same HubSpot access (token, shared rate budget) and the same
 * validation, isolation and rejection store as batch activations.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { propertyCacheKey, type PropertyCache } from '../src/destinations/property-cache';
import type { HubSpotClient } from '../src/hubspot/client';
import type { ServiceMetrics } from '../src/metrics/service-metrics';
import { UNCHANGED } from '../src/delivery/process-page';
import type { ContactMemory } from '../src/store/contact-memory';
import type { RejectionStore } from '../src/store/types';
import { fromWire, unpackSeqLists } from '../src/streaming/wire';
import { activatedAudiencesOf, flushUpdates, storeStreamRejections } from '../src/streaming/flush';
import type { StreamHolds } from '../src/streaming/holds';
import { loadReferenced, type IngestLog } from '../src/streaming/ingest-log';
import type { UpdateOrderMemory } from '../src/streaming/memory';
import {
  emptyFlushCounts,
  type FlushCounts,
  type FlushStreamInput,
  type PendingUpdate,
  type RejectStreamInput,
} from '../src/streaming/types';
import type { AudienceRef } from '../workflows/types';
import { isDailyLimit, markDailyLimit } from './daily-limit';
import { keepHeartbeating } from './heartbeat';
import { clientFor, loadDestination, toFailure, type HubSpotAccessDeps } from './hubspot-access';

/** Retryable: the stream waits for HubSpot's daily reset by retrying the flush after it. */
export const STREAM_DAILY_LIMIT = 'StreamDailyLimitReached';

export interface StreamActivityDeps extends HubSpotAccessDeps {
  rejections: RejectionStore;
  /** Ordering memory of streamed updates: the last written update time per email. */
  streamMemory: UpdateOrderMemory;
  /** The confirmed-state memory shared with batch runs: unchanged updates are not sent. */
  contactMemory: ContactMemory;
  /** CONTACT_MEMORY: off sends every update. */
  contactMemoryEnabled: boolean;
  /** The durable ingest log: updates given by reference are read from it; accounted rows are deleted. */
  ingestLog: IngestLog;
  /** Signal holds around a stream's continue-as-new. */
  streamHolds: Pick<StreamHolds, 'hold' | 'release'>;
  propertyCache: PropertyCache;
  metrics: ServiceMetrics;
  /** The destination activities' own step, run inline for an audience activated after the stream started. */
  ensureAudienceProperty(input: { destinationId: string; audience: AudienceRef }): Promise<{ propertyName: string }>;
}

/** An update given by reference whose log rows are gone (counted, never silently dropped). */
export const MISSING_FROM_INGEST_LOG = 'MISSING_FROM_INGEST_LOG';

export function createStreamActivities(deps: StreamActivityDeps) {
  async function updatesOf(input: FlushStreamInput): Promise<{ updates: PendingUpdate[]; missing: number }> {
    const byValue = input.updates.map(fromWire);
    const refs = [...(input.refs ?? []), ...(input.refsPacked ? unpackSeqLists(input.refsFrom ?? 0, input.refsPacked) : [])];
    if (!refs.length) return { updates: byValue, missing: 0 };
    const byRef = await loadReferenced(deps.ingestLog, input.destinationId, refs);
    return { updates: [...byValue, ...byRef.updates], missing: byRef.missing };
  }

  /** Deletes ingest-log rows the workflow has accounted (idempotent). */
  async function removeDone(input: FlushStreamInput): Promise<void> {
    const seqs = [...(input.done ?? [])];
    for (const [first, last] of input.doneRanges ?? []) for (let s = first; s <= last && seqs.length < 100_000; s++) seqs.push(s);
    if (seqs.length) await deps.ingestLog.remove(input.destinationId, seqs);
    if (input.sweep) {
      const orphans = await deps.ingestLog.sweep(input.destinationId, input.sweep.below, input.sweep.before);
      if (orphans) Context.current().log.info('Deleted orphan ingest-log rows', { destinationId: input.destinationId, orphans });
    }
  }

  return {
    /** Flushes ≤ 100 buffered updates; heartbeats so a dead worker's batch is retried elsewhere soon. */
    async flushStreamBatch(input: FlushStreamInput): Promise<FlushCounts> {
      const ctx = Context.current();
      const stopHeartbeat = keepHeartbeating(ctx, { floorMs: 300 });
      let client: HubSpotClient | undefined;
      let timeZone = 'UTC';
      let portalId: number | undefined;
      try {
        await removeDone(input);
        // The compact wire form ends here: inside, updates have named fields (by reference: read from the log).
        const { updates, missing } = await updatesOf(input);
        const d = await loadDestination(deps, input.destinationId);
        timeZone = d.timeZone;
        portalId = d.portalId;
        client = clientFor(deps, d, { signal: ctx.cancellationSignal });
        const activated = await deps.destinations.audiences(d.id);
        const audiences = new Map(activated.map((a) => [a.audienceId, a.propertyName]));
        let properties = await deps.propertyCache.get(propertyCacheKey(d), client);
        // An audience activated after its property was last seen here gets it ensured before its first value.
        const named = new Set(updates.flatMap((u) => activatedAudiencesOf(u, audiences)));
        for (const a of activated) {
          if (!named.has(a.audienceId) || properties.has(a.propertyName)) continue;
          await deps.ensureAudienceProperty({ destinationId: d.id, audience: { id: a.audienceId, name: a.audienceName } });
          properties = await deps.propertyCache.get(propertyCacheKey(d), client);
        }
        const counts = await flushUpdates(updates, {
          destinationId: d.id,
          keyPrefix: input.keyPrefix,
          mapping: d.mapping,
          properties,
          audiences,
          client,
          rejections: deps.rejections,
          memory: deps.streamMemory,
          ...(deps.contactMemoryEnabled ? { changes: { store: deps.contactMemory } } : {}),
          send: { signal: ctx.cancellationSignal },
        });
        if (missing) {
          counts.ignored += missing;
          counts.ignoredByReason[MISSING_FROM_INGEST_LOG] = (counts.ignoredByReason[MISSING_FROM_INGEST_LOG] ?? 0) + missing;
        }
        deps.metrics.recordContacts('stream', {
          upserted: counts.sent,
          rejected: counts.rejected,
          rejectedByReason: counts.rejectedByReason,
          skippedByReason: {
            ...counts.ignoredByReason,
            ...(counts.stale ? { STALE: counts.stale } : {}),
            ...(counts.unchanged ? { [UNCHANGED]: counts.unchanged } : {}),
          },
        });
        return counts;
      } catch (err) {
        // Cancelled (the stream continues as new): report it as such, not as a HubSpot error to retry.
        if (ctx.cancellationSignal.aborted)
          throw ctx.cancellationSignal.reason instanceof CancelledFailure
            ? ctx.cancellationSignal.reason
            : new CancelledFailure('Flush cancelled');
        if (isDailyLimit(err) && portalId !== undefined) {
          const resetsAt = await markDailyLimit(deps.governor, err, client, { portalId, timeZone });
          throw ApplicationFailure.create({
            type: STREAM_DAILY_LIMIT,
            message: `HubSpot's daily API limit for portal ${portalId} is used up until ${new Date(resetsAt).toISOString()}; the flush resumes then.`,
            nextRetryDelay: Math.max(1000, resetsAt - Date.now() + 1000),
          });
        }
        throw toFailure(err);
      } finally {
        stopHeartbeat();
      }
    },

    /**
     * Asks API processes to keep new updates for a moment: the run is about to continue as new. With
     * `settleMs`, then waits that long (on this worker's clock) so that signals already on the wire land
     * before the run sees this activity complete (patch `stream-quick-handoff`).
     */
    async holdStreamSignals(input: { destinationId: string; forMs: number; settleMs?: number }): Promise<void> {
      await deps.streamHolds.hold(input.destinationId, input.forMs);
      if (input.settleMs && input.settleMs > 0) await new Promise((r) => setTimeout(r, Math.min(input.settleMs!, 1000)));
    },

    /** The new run is up: updates may flow again. */
    async releaseStreamSignals(input: { destinationId: string }): Promise<void> {
      await deps.streamHolds.release(input.destinationId);
    },

    /** A flush failed for good (not a configuration problem): every update in it becomes a stored rejection. */
    async rejectStreamBatch(input: RejectStreamInput): Promise<FlushCounts> {
      const counts = emptyFlushCounts();
      await removeDone(input);
      const { updates, missing } = await updatesOf(input);
      await storeStreamRejections(
        { destinationId: input.destinationId, keyPrefix: input.keyPrefix, rejections: deps.rejections },
        updates.map((update) => ({
          update,
          reason: { code: input.reason.code, message: input.reason.message, origin: 'hubspot' as const },
        })),
      );
      counts.rejected = updates.length;
      counts.rejectedByReason[input.reason.code] = updates.length;
      if (missing) {
        counts.ignored += missing;
        counts.ignoredByReason[MISSING_FROM_INGEST_LOG] = missing;
      }
      deps.metrics.recordContacts('stream', { rejected: counts.rejected, rejectedByReason: counts.rejectedByReason });
      return counts;
    },
  };
}
