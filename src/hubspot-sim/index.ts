/** Public entry of the HubSpot API simulator. */
export { startHubSpotSimulator } from './server';
export type { RunningSimulator, SimulatorOptions } from './server';
export { SimAdmin, AdminError } from './admin';
export { DEFAULT_TIER_LIMITS, ADD_ON_TEN_SECONDLY, ADD_ON_DAILY } from './limits/tiers';
export { nextMidnight } from './limits/timezone';
export type * from './types';
export { DEFAULT_SCOPES } from './types';
