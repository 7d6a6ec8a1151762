/**
 * Classification of HubSpot responses and network failures — done once, here. Callers branch on `kind`
 * and `retryable`, never on status codes. Messages never contain the token or record values.
 */
import { Failure, type FailureDef } from '../failures';

export type HubSpotErrorKind =
  | 'auth' // 401, or 403 other than missing scopes: the token does not work
  | 'scope' // 403 MISSING_SCOPES
  | 'validation' // 400: the request or a record is invalid
  | 'conflict' // 409
  | 'not_found' // 404
  | 'rate_limit' // 429
  | 'transient' // 5xx, 423, 477, timeouts, resets: try again later
  | 'client'; // other 4xx: a bug or an unsupported request

/** The failure each kind is (src/failures.ts): its Temporal type and whether retrying helps. */
const FAILURE_OF_KIND: Record<HubSpotErrorKind, FailureDef> = {
  auth: Failure.HubSpotAuthFailed,
  scope: Failure.HubSpotMissingScopes,
  validation: Failure.HubSpotRequestInvalid,
  conflict: Failure.HubSpotRequestInvalid,
  not_found: Failure.HubSpotRequestInvalid,
  rate_limit: Failure.HubSpotRateLimited,
  transient: Failure.HubSpotUnavailable,
  client: Failure.HubSpotRequestInvalid,
};

export type RateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'DAILY' | 'SECONDLY' | 'UNKNOWN';

export interface HubSpotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  errorType?: string;
  policyName?: string;
  correlationId?: string;
  context?: Record<string, unknown>;
  errors?: Array<{ message?: string; code?: string; context?: Record<string, unknown> }>;
}

export class HubSpotApiError extends Error {
  override name = 'HubSpotApiError';
  constructor(
    readonly kind: HubSpotErrorKind,
    message: string,
    readonly info: {
      status?: number;
      route: string;
      category?: string;
      correlationId?: string;
      policy?: RateLimitPolicy;
      retryAfterMs?: number;
      requiredScopes?: string[];
      body?: HubSpotErrorBody;
      networkCode?: string;
    },
  ) {
    super(message);
  }

  get failure(): FailureDef {
    return FAILURE_OF_KIND[this.kind];
  }

  get retryable(): boolean {
    return this.failure.retryable;
  }
}

/** Failures that mean "the request itself cannot work", unlike resets and timeouts. */
const NON_TRANSIENT_NETWORK_CODES = new Set(['ERR_INVALID_URL', 'ERR_BAD_OPTION', 'ERR_BAD_OPTION_VALUE', 'ERR_NOT_SUPPORT']);

function asBody(data: unknown): HubSpotErrorBody | undefined {
  if (data && typeof data === 'object' && !Array.isArray(data)) return data;
  if (typeof data === 'string' && data.trim().startsWith('{')) {
    try {
      return JSON.parse(data) as HubSpotErrorBody;
    } catch {
      return undefined;
    }
  }
  return undefined; // HubSpot's edge sends HTML for 502/504/524: never assume JSON on 5xx.
}

function requiredScopes(body: HubSpotErrorBody | undefined): string[] | undefined {
  const found = new Set<string>();
  for (const e of body?.errors ?? []) {
    for (const key of ['requiredScopes', 'requiredGranularScopes', 'missingScopes']) {
      const v = e.context?.[key];
      if (Array.isArray(v)) v.forEach((s) => found.add(String(s)));
    }
  }
  return found.size ? [...found] : undefined;
}

function policyOf(body: HubSpotErrorBody | undefined): RateLimitPolicy {
  const p = body?.policyName;
  if (p === 'TEN_SECONDLY_ROLLING' || p === 'DAILY' || p === 'SECONDLY') return p;
  const m = body?.message ?? '';
  if (/daily/i.test(m)) return 'DAILY';
  if (/secondly limit/i.test(m)) return 'SECONDLY';
  if (/ten_secondly/i.test(m)) return 'TEN_SECONDLY_ROLLING';
  return 'UNKNOWN';
}

/** Builds the typed error for a non-2xx response. */
export function classifyResponse(route: string, status: number, data: unknown, retryAfterMs?: number): HubSpotApiError {
  const body = asBody(data);
  const base = { status, route, category: body?.category, correlationId: body?.correlationId, body, retryAfterMs };
  const hubspotSays = body?.message ? ` HubSpot says: ${body.message}` : '';
  if (status === 401) {
    return new HubSpotApiError(
      'auth',
      `HubSpot rejected the token (401 ${body?.category ?? 'Unauthorized'}): it is missing, wrong, expired or revoked. Set a valid private-app token or service key on the destination.`,
      base,
    );
  }
  if (status === 403) {
    const scopes = requiredScopes(body);
    if (body?.category === 'MISSING_SCOPES' || scopes) {
      return new HubSpotApiError(
        'scope',
        `The HubSpot token lacks required scopes${scopes ? ` (${scopes.join(', ')})` : ''}. Grant crm.objects.contacts.read/write and crm.schemas.contacts.read/write to the private app.`,
        { ...base, requiredScopes: scopes },
      );
    }
    return new HubSpotApiError('auth', `HubSpot refused access (403 ${body?.category ?? 'Forbidden'}).${hubspotSays}`, base);
  }
  if (status === 429) {
    const policy = policyOf(body);
    return new HubSpotApiError('rate_limit', `HubSpot rate limit reached (${policy}).`, { ...base, policy });
  }
  if (status === 423 || status === 477 || status >= 500) {
    return new HubSpotApiError('transient', `HubSpot is temporarily unavailable (${status}) on ${route}.`, base);
  }
  if (status === 400)
    return new HubSpotApiError('validation', `HubSpot rejected the request (400 ${body?.category ?? 'Bad Request'}) on ${route}.`, base);
  if (status === 404) return new HubSpotApiError('not_found', `Not found on HubSpot (${route}).`, base);
  if (status === 409) return new HubSpotApiError('conflict', `Conflict on HubSpot (${route}).${hubspotSays}`, base);
  return new HubSpotApiError('client', `HubSpot answered ${status} on ${route}.${hubspotSays}`, base);
}

/** Builds the typed error for a request that got no response (timeout, reset, refused). */
export function classifyNetworkError(route: string, err: { code?: string; message?: string }): HubSpotApiError {
  const code = err.code ?? 'NETWORK';
  const kind: HubSpotErrorKind = NON_TRANSIENT_NETWORK_CODES.has(code) ? 'client' : 'transient';
  return new HubSpotApiError(kind, `No answer from HubSpot on ${route} (${code}).`, { route, networkCode: code });
}
