/** Reads the destination account's contact properties for the API (which never calls HubSpot itself). */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities, PropertySummary } from '../activities';
import { NON_RETRYABLE_TYPES } from './types';

const { listProperties } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  summary: "List the HubSpot account's contact properties",
  retry: {
    initialInterval: '500 milliseconds',
    maximumInterval: '5 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
  },
});

export async function listDestinationProperties(destinationId: string): Promise<PropertySummary[]> {
  return listProperties({ destinationId });
}
