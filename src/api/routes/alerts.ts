/**
 * Alert subscriptions of a destination: webhooks told about activation and stream events.
 * The signing secret is generated unless given, returned once (201) and stored sealed; URLs are checked
 * by `assertWebhookUrl` (http/https, no link-local/metadata hosts, ALERT_WEBHOOK_ALLOWED_HOSTS).
 */
import { z } from 'zod';
import { ALERT_EVENTS } from '../../alerts/events';
import { alertSecretContext, newAlertSecret } from '../../alerts/signature';
import { assertWebhookUrl, webhookHostPolicy } from '../../alerts/webhook-url';
import { AppError } from '../../errors';
import type { AlertSubscription } from '../../store/destinations';
import { newId } from '../../util/ids';
import { ErrorBody, IdParams } from '../schemas';
import type { ApiDeps, TypedApp } from '../app-types';

const tags = ['alerts'];
const MAX_ALERTS_PER_DESTINATION = 20;

export const AlertEventSchema = z.enum(ALERT_EVENTS);

export const CreateAlertBody = z.strictObject({
  url: z.string().url().max(2000).describe('Webhook receiver (http or https); link-local and metadata addresses are refused'),
  events: z.array(AlertEventSchema).min(1).max(ALERT_EVENTS.length).describe('Events to deliver'),
  secret: z.string().min(16).max(200).optional().describe('HMAC-SHA256 signing secret; generated (and returned once) when absent'),
});

export const AlertView = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
  })
  .meta({ id: 'AlertSubscription' });

export const AlertCreated = AlertView.extend({
  secret: z.string().describe('The signing secret: shown only now; verify X-Destination-Signature with it'),
  signature: z.object({ header: z.string(), timestampHeader: z.string(), scheme: z.string() }),
});

const AlertParams = z.strictObject({ id: z.string().min(1).max(200), alertId: z.string().min(1).max(200) });

const view = (a: AlertSubscription) => ({ id: a.id, url: a.url, events: a.events });

export function registerAlertRoutes(app: TypedApp, deps: ApiDeps): void {
  const { config, services } = deps;

  app.post(
    '/v1/destinations/:id/alerts',
    {
      schema: {
        tags,
        summary:
          'Subscribe a webhook to events (activation started/completed/failed/waiting on the daily limit, stream lag); payloads are signed with HMAC-SHA256',
        params: IdParams,
        body: CreateAlertBody,
        response: { 201: AlertCreated, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      assertWebhookUrl(req.body.url, webhookHostPolicy(config.alerts));
      const alertId = newId('alr');
      const secret = req.body.secret ?? newAlertSecret();
      const sub: AlertSubscription = {
        id: alertId,
        url: req.body.url,
        events: [...new Set(req.body.events)],
        sealedSecret: services.sealer.seal(secret, alertSecretContext(id, alertId)),
      };
      const out = await services.destinations.changeAlerts(id, (alerts) => {
        if (alerts.length >= MAX_ALERTS_PER_DESTINATION) {
          throw new AppError('CONFLICT', `A destination has at most ${MAX_ALERTS_PER_DESTINATION} alert subscriptions; delete one first.`);
        }
        return { alerts: [...alerts, sub], result: undefined };
      });
      if (!out) throw new AppError('NOT_FOUND', `Destination ${id} does not exist.`);
      return reply.status(201).send({
        ...view(sub),
        secret,
        signature: {
          header: 'X-Destination-Signature',
          timestampHeader: 'X-Destination-Timestamp',
          scheme: 'sha256=hex(HMAC-SHA256(secret, "<timestamp>.<raw body>"))',
        },
      });
    },
  );

  app.get(
    '/v1/destinations/:id/alerts',
    {
      schema: {
        tags,
        summary: "A destination's alert subscriptions (never their secrets)",
        params: IdParams,
        response: { 200: z.object({ items: z.array(AlertView) }), 404: ErrorBody },
      },
    },
    async (req) => {
      const d = await services.destinations.get(req.params.id);
      if (!d) throw new AppError('NOT_FOUND', `Destination ${req.params.id} does not exist.`);
      return { items: d.alerts.map(view) };
    },
  );

  app.delete(
    '/v1/destinations/:id/alerts/:alertId',
    {
      schema: {
        tags,
        summary: 'Unsubscribe a webhook (deliveries still retrying are dropped)',
        params: AlertParams,
        response: { 204: z.null().describe('Deleted'), 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const { id, alertId } = req.params;
      const out = await services.destinations.changeAlerts(id, (alerts) => ({
        alerts: alerts.filter((a) => a.id !== alertId),
        result: alerts.some((a) => a.id === alertId),
      }));
      if (!out) throw new AppError('NOT_FOUND', `Destination ${id} does not exist.`);
      if (!out.result) throw new AppError('NOT_FOUND', `Alert ${alertId} does not exist on destination ${id}.`);
      return reply.status(204).send(null);
    },
  );
}
