/**
 * Activities of an activation run besides its page loop (activities/process-pages.ts): describe the
 * source, and cross-check the run's counts with the rejection store at the end.
 */
import type { DeliveryCounts } from '../src/delivery/counts';
import type { Logger } from '../src/logger';
import type { SourceReader } from '../src/members/source-reader';
import type { SourceRef } from '../src/members/types';
import { checkpointCounts, type RunCheckpoints } from '../src/store/checkpoints';
import { createAudienceListActivities } from './audience-lists';
import { classified } from './hubspot-access';
import { createProcessPages, createWriteExits, type ProcessPagesDeps } from './process-pages';

export interface ActivationActivityDeps extends ProcessPagesDeps {
  sourceReader: SourceReader;
  checkpoints: RunCheckpoints;
  logger: Logger;
}

export function createActivationActivities(deps: ActivationActivityDeps) {
  return {
    async describeSource(input: { source: SourceRef }): Promise<{ totalRecords?: number }> {
      return classified(async () => {
        const info = await deps.sourceReader.describe(input.source);
        return { totalRecords: info.totalRecords };
      });
    },

    processPages: createProcessPages(deps),

    /** List-encoded audiences: ensure the MANUAL list, and write memberships after the upserts. */
    ...createAudienceListActivities(deps),

    /** `exitMissing` runs, after the last page: `exited` for remembered members the snapshot lacks. */
    writeExits: createWriteExits(deps),

    /** A run closed early (cancelled, failed): what its page run in progress delivered before it stopped. */
    async closedRunProgress(input: { activationId: string; runOffset: number }): Promise<{ counts?: DeliveryCounts }> {
      const cp = await deps.checkpoints.get(input.activationId, input.runOffset);
      return cp ? { counts: checkpointCounts(cp) } : {};
    },

    /** Last step: cross-checks the run's counts with the rejection store. */
    async summarizeActivation(input: { activationId: string; counts: DeliveryCounts }): Promise<{ storedRejections: number }> {
      await deps.checkpoints.deleteAll(input.activationId);
      const stored = await deps.rejections.count(input.activationId);
      if (stored !== input.counts.rejected) {
        deps.logger.warn(
          { activationId: input.activationId, stored, counted: input.counts.rejected },
          'stored rejections differ from counted rejections',
        );
      }
      return { storedRejections: stored };
    },
  };
}
