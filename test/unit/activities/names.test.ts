/**
 * Activity names are part of every recorded workflow history (test/replay): the per-concern factories
 * composed by createActivities must register exactly these, under these names.
 */
import { createActivities, type ActivityDeps } from '../../../activities';

test('createActivities registers the activities the workflows call, by their recorded names', () => {
  // Building the activities touches no dependency; calling one would.
  const activities = createActivities({} as ActivityDeps);
  expect(Object.keys(activities).sort()).toEqual(
    [
      'alertTargets',
      'beginSyncRun',
      'closedRunProgress',
      'configureDestination',
      'deliverAlert',
      'describeSource',
      'ensureAudienceList',
      'ensureAudienceProperty',
      'flushStreamBatch',
      'holdStreamSignals',
      'listProperties',
      'processPages',
      'rejectStreamBatch',
      'releaseStreamSignals',
      'summarizeActivation',
      'validateConnection',
      'writeExits',
      'writeListMemberships',
    ].sort(),
  );
});
