/**
 * Alerts: a workflow emits an event with `emitAlert(event, key)`; when the destination has subscriptions
 * to it, a `deliverAlerts` child workflow delivers it to each of them.
 *
 * Why a child workflow (ParentClosePolicy.ABANDON): deliveries retry for minutes (10 attempts with
 * exponential backoff) and must neither delay nor fail the activation that emitted them. The child
 * outlives its parent, its failure is its own (a failed `deliverAlerts` workflow in the Web UI, tagged
 * with the DestinationId search attribute, its activity failures showing the receiver's answer), and
 * the activation's history only gains a local-activity marker and a child-started event per event.
 * Emitting never throws: an alert that cannot even be started is logged and skipped.
 */
import {
  log,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { AlertActivities, DeliverAlertResult } from '../activities/alerts';
import type { AlertEvent } from '../src/alerts/events';
import { DestinationIdKey } from '../src/temporal/search-attributes';
import { applicationFailure, Failure } from '../src/failures';
import { escapeMarkdown } from './markdown';

export const ALERT_MAX_ATTEMPTS = 10;

/** 1 s, 2 s, 4 s ... capped at 1 minute: about 6 minutes over 10 attempts. */
export const ALERT_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: ALERT_MAX_ATTEMPTS,
};

const deliverOptions: ActivityOptions = { startToCloseTimeout: '30 seconds', retry: ALERT_RETRY };

export interface DeliverAlertsInput {
  event: AlertEvent;
  alertIds: string[];
}

export interface DeliverAlertsResult {
  delivered: number;
  skipped: number;
}

/** Delivers one event to the given subscriptions, in parallel; fails (visibly) if any delivery gave up. */
export async function deliverAlerts(input: DeliverAlertsInput): Promise<DeliverAlertsResult> {
  const acts = proxyActivities<AlertActivities>(deliverOptions);
  const { event } = input;
  const deliveryId = workflowInfo().workflowId;
  const results = await Promise.allSettled(
    input.alertIds.map((alertId) =>
      acts.deliverAlert.executeWithOptions({ ...deliverOptions, summary: `POST ${event.type} to alert ${alertId}` }, [
        { alertId, deliveryId: `${deliveryId}:${alertId}`, event, maxAttempts: ALERT_MAX_ATTEMPTS },
      ]),
    ),
  );
  const done = results.filter((r): r is PromiseFulfilledResult<DeliverAlertResult> => r.status === 'fulfilled').map((r) => r.value);
  const failed = input.alertIds.filter((_, i) => results[i].status === 'rejected');
  if (failed.length) {
    throw applicationFailure(
      Failure.AlertDeliveryFailed,
      `${failed.length} of ${input.alertIds.length} deliveries of ${event.type} gave up (alerts ${failed.join(', ')}); see the deliverAlert activity failures for each receiver's answer.`,
      { nonRetryable: true },
    );
  }
  return { delivered: done.filter((r) => r.outcome === 'delivered').length, skipped: done.filter((r) => r.outcome === 'skipped').length };
}

const targets = proxyLocalActivities<AlertActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });

/**
 * Emits an alert event from any workflow (activations, the destination stream). `key` makes the child's
 * workflow id unique per event of this workflow (`<workflowId>-alert-<key>`); emitting twice with the
 * same key delivers once. Never throws. Returns whether a delivery workflow was started.
 */
export async function emitAlert(event: AlertEvent, key: string): Promise<boolean> {
  try {
    const { alertIds } = await targets.alertTargets({ destinationId: event.destinationId, event: event.type });
    if (!alertIds.length) return false;
    const what = event.audience ? `audience "${escapeMarkdown(event.audience.name)}"` : `destination ${event.destinationId}`;
    await startChild(deliverAlerts, {
      workflowId: `${workflowInfo().workflowId}-alert-${key}`,
      args: [{ event, alertIds }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [{ key: DestinationIdKey, value: event.destinationId }],
      staticSummary: `Alert ${event.type} (${what}) to ${alertIds.length} webhook${alertIds.length === 1 ? '' : 's'}`,
    });
    return true;
  } catch (err) {
    log.warn('alert not emitted', { event: event.type, destinationId: event.destinationId, error: (err as Error).message });
    return false;
  }
}
