/** Workflow entry point bundled for the worker. */
export { activateAudience, progressQuery } from './activate-audience';
export { configureDestination } from './configure-destination';
export { listDestinationProperties } from './list-properties';
export {
  destinationStream,
  profilesSignal,
  pauseStreamSignal,
  resumeStreamSignal,
  configureStreamSignal,
  streamStatsQuery,
} from './destination-stream';
export { deliverAlerts } from './alerts';
