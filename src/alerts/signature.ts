/**
 * Webhook signatures. Each delivery carries
 *   X-Destination-Timestamp: <unix seconds of this attempt>
 *   X-Destination-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * Receivers recompute the HMAC over the raw body with the subscription's secret, compare in constant
 * time, and refuse timestamps older than a few minutes (replays). `verifyAlertSignature` does all that.
 */
import crypto from 'node:crypto';

export const SIGNATURE_HEADER = 'x-destination-signature';
export const TIMESTAMP_HEADER = 'x-destination-timestamp';
export const EVENT_HEADER = 'x-destination-event';
export const DELIVERY_HEADER = 'x-destination-delivery';

export function signAlert(secret: string, timestamp: number, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** Headers of one delivery attempt. */
export function signedHeaders(
  secret: string,
  body: string,
  meta: { event: string; deliveryId: string; now?: number },
): Record<string, string> {
  const timestamp = Math.floor((meta.now ?? Date.now()) / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'hubspot-audience-destination-alerts/1',
    [SIGNATURE_HEADER]: signAlert(secret, timestamp, body),
    [TIMESTAMP_HEADER]: String(timestamp),
    [EVENT_HEADER]: meta.event,
    [DELIVERY_HEADER]: meta.deliveryId,
  };
}

/** For receivers (and tests): true when the signature matches and the timestamp is recent. */
export function verifyAlertSignature(
  secret: string,
  rawBody: string,
  headers: Record<string, string | string[] | undefined>,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const sig = headers[SIGNATURE_HEADER];
  const ts = Number(headers[TIMESTAMP_HEADER]);
  if (typeof sig !== 'string' || !Number.isInteger(ts)) return false;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - ts) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signAlert(secret, ts, rawBody));
  const given = Buffer.from(sig);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

/** Sealing context of a subscription's signing secret (binds it to its destination and alert). */
export const alertSecretContext = (destinationId: string, alertId: string): string => `alert:${destinationId}:${alertId}`;

/** A new signing secret (returned once when a subscription is created, then only stored sealed). */
export function newAlertSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64url')}`;
}
