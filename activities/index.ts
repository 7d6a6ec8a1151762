/**
 * Activities: every side effect of the destination (HubSpot calls, reading sources, the stores).
 * One factory per concern, each with required, interface-typed dependencies; composed here so the
 * worker registers them all. Inputs and results carry ids, cursors and counts only; contact data stays
 * inside the activity. Activity names are part of recorded histories (test/replay): keep them.
 */
import { createActivationActivities, type ActivationActivityDeps } from './activation';
import { createAlertActivities, type AlertActivityDeps } from './alerts';
import { createDestinationActivities, type DestinationActivityDeps } from './destinations';
import { createStreamActivities, type StreamActivityDeps } from './streaming';
import { createSyncActivities, type SyncActivityDeps } from './syncs';

export type { PropertySummary } from '../src/destinations/property-summary';

/** Everything the activities need; the worker builds it from the config and the shared services. */
export interface ActivityDeps
  extends
    DestinationActivityDeps,
    ActivationActivityDeps,
    Omit<StreamActivityDeps, 'ensureAudienceProperty'>,
    AlertActivityDeps,
    SyncActivityDeps {}

export function createActivities(deps: ActivityDeps) {
  const destinations = createDestinationActivities(deps);
  return {
    ...destinations,
    ...createActivationActivities(deps),
    ...createStreamActivities({ ...deps, ensureAudienceProperty: destinations.ensureAudienceProperty }),
    ...createAlertActivities(deps),
    ...createSyncActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
