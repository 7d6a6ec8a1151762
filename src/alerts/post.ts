/**
 * One webhook POST. Node's http/https with a DNS lookup that refuses blocked addresses (so a host name
 * cannot be pointed at the metadata service after it was subscribed), no redirects, a timeout, and the
 * response body drained unread. Errors name the host only: a receiver's URL path may hold its secret.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { assertWebhookUrl, hostOf, isBlockedAddress, type WebhookHostPolicy } from './webhook-url';

export class WebhookError extends Error {
  override name = 'WebhookError';
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = true,
  ) {
    super(message);
  }
}

const safeLookup =
  (allowPrivate: boolean): LookupFunction =>
  (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses;
      const bad = list.find((a) => isBlockedAddress(a.address, { allowPrivate }));
      if (bad || !list.length) {
        return callback(Object.assign(new Error(`${hostname} resolves to a blocked address`), { code: 'EBLOCKED' }), '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      return callback(null, list[0].address, list[0].family);
    });
  };

/** Statuses worth retrying: the receiver may be back soon. Other 3xx/4xx mean the subscription is wrong. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}

export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; policy: WebhookHostPolicy },
): Promise<{ status: number }> {
  let u: URL;
  try {
    u = assertWebhookUrl(url, options.policy);
  } catch (err) {
    throw new WebhookError((err as Error).message, undefined, false);
  }
  const host = hostOf(url);
  const lib = u.protocol === 'https:' ? https : http;
  const status = await new Promise<number>((resolve, reject) => {
    const req = lib.request(
      u,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: safeLookup(Boolean(options.policy.allowPrivate)),
        timeout: options.timeoutMs,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new WebhookError(`Webhook host ${host} did not answer within ${options.timeoutMs} ms.`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof WebhookError) return reject(err);
      const blocked = err.code === 'EBLOCKED';
      reject(
        new WebhookError(
          blocked
            ? `Webhook host ${host} resolves to a blocked address (link-local/metadata).`
            : `Webhook host ${host} unreachable: ${err.code ?? err.message}.`,
          undefined,
          !blocked,
        ),
      );
    });
    req.end(body);
  });
  if (status >= 200 && status < 300) return { status };
  throw new WebhookError(`Webhook host ${host} answered HTTP ${status}.`, status, retryableStatus(status));
}
