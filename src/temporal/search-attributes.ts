/**
 * Custom search attributes (Keyword) that make activations findable in the Web UI and with
 * `temporal workflow list --query "DestinationId='...'"`. They are stored in plain text by Temporal:
 * ids and statuses only, never personal data or secrets.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DestinationIdKey = defineSearchAttributeKey('DestinationId', SearchAttributeType.KEYWORD);
export const AudienceIdKey = defineSearchAttributeKey('AudienceId', SearchAttributeType.KEYWORD);
export const ActivationStatusKey = defineSearchAttributeKey('ActivationStatus', SearchAttributeType.KEYWORD);
/** Runs of a sync (scheduled or triggered): `SyncId='syn-…'`. */
export const SyncIdKey = defineSearchAttributeKey('SyncId', SearchAttributeType.KEYWORD);

/** For `temporal server start-dev --search-attribute Name=Keyword` and the test environment. */
export const SEARCH_ATTRIBUTES = [DestinationIdKey, AudienceIdKey, ActivationStatusKey, SyncIdKey];

export type ActivationStatusValue = 'Running' | 'WaitingDailyLimit' | 'Completed' | 'CompletedWithRejections' | 'Failed' | 'Cancelled';
