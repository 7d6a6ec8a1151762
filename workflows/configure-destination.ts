/**
 * Checks a new or changed destination against its HubSpot account and saves it if it passes. The API
 * waits for the result: problems come back as data (answered 4xx), transient faults are retried.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_TYPES, type ConfigureDestinationInput, type ConfigureDestinationResult } from './types';

const { configureDestination: check } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  summary: 'Check the token, its scopes and the mapping against HubSpot, then save',
  // The API waits for this: a few quick retries, not a long outage.
  retry: {
    initialInterval: '500 milliseconds',
    maximumInterval: '5 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
  },
});

export async function configureDestination(input: ConfigureDestinationInput): Promise<ConfigureDestinationResult> {
  return check(input);
}
