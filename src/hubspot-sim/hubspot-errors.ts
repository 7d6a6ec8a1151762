/**
 * HubSpot's error bodies (https://developers.hubspot.com/docs/api-reference/error-handling, https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines). Handlers throw `HsError`; the pipeline adds the
 * request's correlation id and `status: "error"` when it answers.
 */
import { randomUUID } from 'node:crypto';
import type { RateLimitPolicy } from './types';

export class HsError extends Error {
  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorBody(
  correlationId: string,
  category: string,
  message: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { status: 'error', message, correlationId, ...extra, category };
}

/** One failed property value, as HubSpot lists it inside "Property values were not valid". */
export interface PropertyProblem {
  name: string;
  code: string;
  message: string;
}

/** The JSON-in-message plus structured `errors[]` body of HubSpot's VALIDATION_ERROR (https://developers.hubspot.com/docs/api-reference/error-handling) (without correlation id). */
export function validationParts(problems: PropertyProblem[], portalId: number): { message: string; extra: Record<string, unknown> } {
  const legacy = problems.map((p) => ({
    isValid: false,
    message: p.message,
    error: p.code,
    name: p.name,
    localizedErrorMessage: p.message,
    portalId,
  }));
  return {
    message: `Property values were not valid: ${JSON.stringify(legacy)}`,
    extra: { errors: problems.map((p) => ({ message: p.message, code: p.code, context: { propertyName: [p.name] } })) },
  };
}

export function propertyValidationError(problems: PropertyProblem[], portalId: number): HsError {
  const { message, extra } = validationParts(problems, portalId);
  return new HsError(400, 'VALIDATION_ERROR', message, extra);
}

export function validationError(message: string, extra: Record<string, unknown> = {}): HsError {
  return new HsError(400, 'VALIDATION_ERROR', message, extra);
}

export function objectNotFound(id: string): HsError {
  return new HsError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', { context: { id: [id] } });
}

export function nonUniqueIdProperty(name: string): HsError {
  return validationError(`Unable to perform update/upsert by non-unique 0-1 property ${name}`);
}

export const AUTH_MESSAGE =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export function unauthorized(): HsError {
  return new HsError(401, 'INVALID_AUTHENTICATION', AUTH_MESSAGE, {}, { 'x-hubspot-auth-failure': '401 Unauthorized' });
}

/** 401 for an expired token, worded like HubSpot's OAuth expiry (https://developers.hubspot.com/docs/api-reference/error-handling). */
export function expiredToken(expiresAt: number, now: number): HsError {
  const s = Math.max(0, Math.floor((now - expiresAt) / 1000));
  const [n, unit] = s < 3600 ? [s, 'second(s)'] : s < 86_400 ? [Math.floor(s / 3600), 'hour(s)'] : [Math.floor(s / 86_400), 'day(s)'];
  return new HsError(
    401,
    'EXPIRED_AUTHENTICATION',
    `The OAuth token used to make this call expired ${n} ${unit} ago.`,
    { context: { 'expire time': [new Date(expiresAt).toISOString()] } },
    { 'x-hubspot-auth-failure': '401 Unauthorized' },
  );
}

export function missingScopes(required: string[]): HsError {
  return new HsError(
    403,
    'MISSING_SCOPES',
    "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    {
      errors: [
        {
          message: 'One or more of the following scopes are required.',
          context: { requiredScopes: required, requiredGranularScopes: required },
        },
      ],
      links: { scopes: 'https://developers.hubspot.com/scopes' },
    },
  );
}

const RATE_MESSAGES: Record<RateLimitPolicy, string> = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  DAILY: 'You have reached your daily limit.',
  SECONDLY: 'You have reached your secondly limit.',
};

const RATE_GROUPS: Record<RateLimitPolicy, string> = {
  TEN_SECONDLY_ROLLING: 'publicapi:private-app-api-calls-ten-secondly',
  DAILY: 'publicapi:private-app-api-calls-daily',
  SECONDLY: 'publicapi:crm-search-secondly',
};

/** 429 bodies use `errorType`, not `category` (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines). */
export function rateLimitBody(correlationId: string, policy: RateLimitPolicy, portalId: number): Record<string, unknown> {
  return {
    status: 'error',
    message: RATE_MESSAGES[policy],
    errorType: 'RATE_LIMIT',
    correlationId,
    policyName: policy,
    groupName: `${RATE_GROUPS[policy]}:${portalId}`,
    requestId: randomUUID().replace(/-/g, ''),
  };
}
