/**
 * The first step of a run a sync's Temporal Schedule started (src/api/routes/syncs.ts): the schedule
 * starts the ordinary activation workflow, so what the API does before starting an activation happens
 * here instead — record its input in the store (so it can be re-run and shown like any activation) and
 * claim the run slot of every listed audience (one run per destination × audience, docs/decisions.md).
 */
import type { ActivationRecord, RunSlotHolder } from '../src/store/activations';
import { applicationFailure, Failure } from '../src/failures';
import { usesList, type AudienceRef, type SourceRef } from '../workflows/types';

export interface SyncActivityDeps {
  syncRuns: {
    insertIfAbsent(a: ActivationRecord): Promise<void>;
    slots: {
      claim(
        destinationId: string,
        audienceId: string,
        activationId: string,
        isFree: (holder: RunSlotHolder) => Promise<boolean>,
      ): Promise<{ ok: true } | { ok: false; holder: RunSlotHolder }>;
      release(destinationId: string, audienceId: string, activationId: string): Promise<void>;
    };
  };
  /** Whether an activation's workflow is running (`missing`: Temporal does not know it, yet or any more). */
  activationRunState(activationId: string): Promise<'running' | 'closed' | 'missing'>;
}

export interface BeginSyncRunInput {
  activationId: string;
  syncId: string;
  destinationId: string;
  audiences: AudienceRef[];
  source: SourceRef;
  options?: { fullResync?: boolean; exitMissing?: boolean };
}

/** A slot claimed by a run whose workflow Temporal does not know yet counts as starting this long. */
const STARTING_GRACE_MS = 60_000;

export function createSyncActivities(deps: SyncActivityDeps) {
  return {
    async beginSyncRun(input: BeginSyncRunInput): Promise<void> {
      const { activationId, destinationId } = input;
      const isFree = async (holder: RunSlotHolder) => {
        if (holder.activationId === activationId) return true; // this run's own claim (a retried attempt)
        const state = await deps.activationRunState(holder.activationId);
        return state === 'closed' || (state === 'missing' && Date.now() - holder.claimedAt > STARTING_GRACE_MS);
      };
      const claimed: string[] = [];
      for (const a of input.audiences) {
        const claim = await deps.syncRuns.slots.claim(destinationId, a.id, activationId, isFree);
        if (!claim.ok) {
          await Promise.all(claimed.map((id) => deps.syncRuns.slots.release(destinationId, id, activationId).catch(() => undefined)));
          throw applicationFailure(
            Failure.SyncRunSkipped,
            `This scheduled run of sync ${input.syncId} did not start: audience ${a.id} is being activated on destination ${destinationId} by activation ${claim.holder.activationId}. The next scheduled run starts once it has finished.`,
            { details: [{ runningActivationId: claim.holder.activationId, audienceId: a.id }] },
          );
        }
        claimed.push(a.id);
      }
      await deps.syncRuns.insertIfAbsent({
        id: activationId,
        destinationId,
        audience: input.audiences[0],
        ...(input.audiences.length > 1 || input.audiences.some(usesList) ? { audiences: input.audiences } : {}),
        ...(input.options && Object.keys(input.options).length ? { options: input.options } : {}),
        source: input.source,
        createdAt: new Date().toISOString(),
      });
    },
  };
}
