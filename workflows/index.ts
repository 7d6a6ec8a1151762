/** Workflow entry point bundled for the worker. */
export { activateAudience } from './activate-audience';
export { configureDestination } from './configure-destination';
export { listDestinationProperties } from './list-properties';
export { destinationStream } from './destination-stream';
export { deliverAlerts } from './alerts';
export { progressQuery, profilesSignal, pauseStreamSignal, resumeStreamSignal, configureStreamSignal, streamStatsQuery } from './messages';
