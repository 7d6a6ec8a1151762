/** HubSpot's X-HubSpot-RateLimit-* headers (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines). Every field is optional: OAuth calls omit the daily ones. */
export interface RateLimitInfo {
  max?: number;
  remaining?: number;
  intervalMs?: number;
  daily?: number;
  dailyRemaining?: number;
  secondly?: number;
  secondlyRemaining?: number;
}

type HeaderBag = Record<string, unknown> | { get?: (name: string) => unknown };

function header(headers: HeaderBag, name: string): number | undefined {
  const raw =
    typeof (headers as { get?: unknown }).get === 'function'
      ? (headers as { get: (n: string) => unknown }).get(name)
      : ((headers as Record<string, unknown>)[name] ?? (headers as Record<string, unknown>)[name.toLowerCase()]);
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isFinite(n) ? n : undefined;
}

export function parseRateLimitHeaders(headers: HeaderBag): RateLimitInfo {
  return {
    max: header(headers, 'x-hubspot-ratelimit-max'),
    remaining: header(headers, 'x-hubspot-ratelimit-remaining'),
    intervalMs: header(headers, 'x-hubspot-ratelimit-interval-milliseconds'),
    daily: header(headers, 'x-hubspot-ratelimit-daily'),
    dailyRemaining: header(headers, 'x-hubspot-ratelimit-daily-remaining'),
    secondly: header(headers, 'x-hubspot-ratelimit-secondly'),
    secondlyRemaining: header(headers, 'x-hubspot-ratelimit-secondly-remaining'),
  };
}

/** `Retry-After` in ms (seconds or HTTP date), if present. */
export function parseRetryAfter(headers: HeaderBag, now = Date.now()): number | undefined {
  const raw =
    typeof (headers as { get?: unknown }).get === 'function'
      ? (headers as { get: (n: string) => unknown }).get('retry-after')
      : (headers as Record<string, unknown>)['retry-after'];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const s = String(raw);
  const secs = Number(s);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
