/**
 * Alert activities: which subscriptions want an event, and one signed webhook delivery.
 *
 * The subscription's URL and secret are read from the store here (never passed through workflow
 * history: a receiver URL can hold a secret of its own). The body holds ids, audience, counts, status
 * and a Web UI link, never contact data. Every attempt is counted in `hsd_alert_deliveries_total`
 * and logged with the alert id and the receiver's host.
 */
import { Context } from '@temporalio/activity';
import type { AlertEvent, AlertEventName, AlertPayload } from '../src/alerts/events';
import { postWebhook, WebhookError } from '../src/alerts/post';
import { alertSecretContext, signedHeaders } from '../src/alerts/signature';
import { hostOf, type WebhookHostPolicy } from '../src/alerts/webhook-url';
import { applicationFailure, Failure } from '../src/failures';
import type { Logger } from '../src/logger';
import type { ServiceMetrics } from '../src/metrics/service-metrics';
import type { Sealer } from '../src/secrets/sealer';
import type { Destinations } from '../src/store/destinations';

export interface AlertActivityDeps {
  destinations: Destinations;
  sealer: Sealer;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Web UI base URL and namespace, for the link in each payload. */
  webUi: { url: string; namespace: string };
  /** Webhook hosts a subscription may name (empty: any public host; config: alerts.allowedHosts). */
  alertPolicy: WebhookHostPolicy;
  alertTimeoutMs: number;
}

export interface DeliverAlertInput {
  alertId: string;
  /** Stable id of this delivery (same for every retry). */
  deliveryId: string;
  event: AlertEvent;
  /** The retry policy's maximum attempts: the last one counts as `failed` in the metrics. */
  maxAttempts: number;
}

export type DeliverAlertResult = { outcome: 'delivered'; status: number } | { outcome: 'skipped'; reason: string };

export function webUiLink(webUi: AlertActivityDeps['webUi'], workflowId: string, runId?: string): string {
  const base = `${webUi.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(webUi.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}

export function createAlertActivities(deps: AlertActivityDeps) {
  return {
    /** Ids of the destination's subscriptions to this event (none: nothing to deliver). */
    async alertTargets(input: { destinationId: string; event: AlertEventName }): Promise<{ alertIds: string[] }> {
      const d = await deps.destinations.get(input.destinationId);
      return { alertIds: (d?.alerts ?? []).filter((a) => a.events.includes(input.event)).map((a) => a.id) };
    },

    /** One signed POST to one subscription; retried by Temporal (bounded) on network errors, 5xx, 408, 429. */
    async deliverAlert(input: DeliverAlertInput): Promise<DeliverAlertResult> {
      const { event, alertId } = input;
      const d = await deps.destinations.get(event.destinationId);
      const sub = d?.alerts.find((a) => a.id === alertId);
      if (!d || !sub) {
        deps.metrics.recordAlertDelivery(event.type, 'skipped');
        return { outcome: 'skipped', reason: d ? 'unsubscribed' : 'destination deleted' };
      }
      const { workflowId, runId, destinationId: _d, ...rest } = event;
      const payload: AlertPayload = {
        id: input.deliveryId,
        alertId,
        ...rest,
        destination: { id: d.id, name: d.name },
        links: { webUi: webUiLink(deps.webUi, workflowId, runId) },
      };
      const body = JSON.stringify(payload);
      const secret = deps.sealer.open(sub.sealedSecret, alertSecretContext(d.id, alertId));
      const attempt = Context.current().info.attempt;
      const log = { destinationId: d.id, alertId, event: event.type, deliveryId: input.deliveryId, host: hostOf(sub.url), attempt };
      try {
        const { status } = await postWebhook(
          sub.url,
          body,
          signedHeaders(secret, body, { event: event.type, deliveryId: input.deliveryId }),
          {
            timeoutMs: deps.alertTimeoutMs,
            policy: deps.alertPolicy,
          },
        );
        deps.metrics.recordAlertDelivery(event.type, 'delivered');
        deps.logger.info({ ...log, status }, 'alert delivered');
        return { outcome: 'delivered', status };
      } catch (err) {
        const e = err instanceof WebhookError ? err : new WebhookError(`Webhook host ${log.host}: ${(err as Error).message}`);
        const final = !e.retryable || attempt >= input.maxAttempts;
        deps.metrics.recordAlertDelivery(event.type, final ? 'failed' : 'retrying');
        deps.logger.warn({ ...log, status: e.status, final }, `alert delivery failed: ${e.message}`);
        throw applicationFailure(Failure.AlertDeliveryFailed, `Alert ${alertId} (${event.type}): ${e.message}`, {
          nonRetryable: !e.retryable,
          details: [{ alertId, status: e.status, host: log.host }],
        });
      }
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
