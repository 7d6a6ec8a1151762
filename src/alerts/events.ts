/**
 * Alert events a destination can subscribe webhooks to, and the event record workflows emit.
 * Imported by workflows: no Node modules here. Events carry ids, names of audiences, counts, statuses
 * and failure codes only — never contact data, tokens or secrets.
 */

import type { DeliveryCounts } from '../delivery/counts';

export const ALERT_EVENTS = [
  'activation.started',
  'activation.completed',
  'activation.completed_with_rejections',
  'activation.failed',
  'activation.cancelled',
  'activation.waiting_daily_limit',
  'stream.lag_above_threshold',
] as const;

export type AlertEventName = (typeof ALERT_EVENTS)[number];

/** Counts in alert payloads (numbers and reason codes only). */
export type AlertCounts = Omit<DeliveryCounts, 'skippedByReason'>;

/** What a workflow emits; the delivery activity adds the destination's name, links and a delivery id. */
export interface AlertEvent {
  type: AlertEventName;
  destinationId: string;
  /** Workflow time of the event (ISO). */
  occurredAt: string;
  /** The workflow the event is about (for the Web UI link). */
  workflowId: string;
  runId?: string;
  activationId?: string;
  audience?: { id: string; name: string };
  /** Activation status at the event (running, waiting, completed, completed_with_rejections, failed). */
  status?: string;
  counts?: AlertCounts;
  totalRecords?: number;
  /** activation.failed: the failure type (code) and its message (what to fix). */
  failure?: { type?: string; message: string };
  /** activation.waiting_daily_limit: when HubSpot's daily budget comes back. */
  waitingUntil?: string;
  /** stream.lag_above_threshold. */
  stream?: { lagMs: number; thresholdMs: number; buffered?: number };
}

/** The JSON body a webhook receives (`X-Destination-Signature` signs exactly these bytes). */
export interface AlertPayload extends Omit<AlertEvent, 'workflowId' | 'runId' | 'destinationId'> {
  /** Stable across retries of the same delivery: receivers deduplicate with it. */
  id: string;
  alertId: string;
  destination: { id: string; name: string };
  links: { webUi: string };
}

export function isAlertEvent(name: string): name is AlertEventName {
  return (ALERT_EVENTS as readonly string[]).includes(name);
}
