/**
 * The failure vocabulary: every failure a user, a workflow or the API can see, defined once.
 *
 * - `type`: the Temporal failure type (`ApplicationFailure.type`); workflows compare it, activation views show it.
 * - `code`: the API error code (`{error: {code}}`) and the code of a destination-check problem.
 * - `status`: the HTTP status the API answers with.
 * - `retryable`: whether trying again can help; a non-retryable failure ends its activity at once.
 * - `hint`: what the user can do about it.
 *
 * Workflow code imports this module (it compares failure types), so it must stay free of Node built-ins
 * and I/O libraries; `@temporalio/common` is deterministic and safe in the workflow sandbox.
 */
import { ApplicationFailure } from '@temporalio/common';

export interface FailureDef {
  readonly type: string;
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly hint: string;
}

export const Failure = {
  // ---- requests to the API (raised in activities too: then `type` is what the failure carries) ----
  /** In an activity a bad request is a source the worker cannot read (format, path). */
  BadRequest: { type: 'SourceInvalid', code: 'BAD_REQUEST', status: 400, retryable: false, hint: 'Fix the request.' },
  ValidationFailed: {
    type: 'VALIDATION_FAILED',
    code: 'VALIDATION_FAILED',
    status: 400,
    retryable: false,
    hint: 'Fix the fields the message names.',
  },
  Unauthenticated: {
    type: 'UNAUTHENTICATED',
    code: 'UNAUTHENTICATED',
    status: 401,
    retryable: false,
    hint: 'Send Authorization: Bearer <API key>.',
  },
  Forbidden: { type: 'FORBIDDEN', code: 'FORBIDDEN', status: 403, retryable: false, hint: 'Use a valid API key.' },
  NotFound: { type: 'NOT_FOUND', code: 'NOT_FOUND', status: 404, retryable: false, hint: 'Check the id.' },
  Conflict: { type: 'CONFLICT', code: 'CONFLICT', status: 409, retryable: false, hint: 'Wait for the other operation, then retry.' },
  PayloadTooLarge: {
    type: 'PAYLOAD_TOO_LARGE',
    code: 'PAYLOAD_TOO_LARGE',
    status: 413,
    retryable: false,
    hint: 'Send less per request.',
  },
  Gone: {
    type: 'GONE',
    code: 'GONE',
    status: 410,
    retryable: false,
    hint: 'It is past the retention period: start anew.',
  },
  UriTooLong: { type: 'URI_TOO_LONG', code: 'URI_TOO_LONG', status: 414, retryable: false, hint: 'Ids are at most 200 characters.' },
  UnsupportedMediaType: {
    type: 'UNSUPPORTED_MEDIA_TYPE',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    retryable: false,
    hint: 'Send JSON with Content-Type application/json (files only to /v1/uploads).',
  },
  HeadersTooLarge: {
    type: 'HEADERS_TOO_LARGE',
    code: 'HEADERS_TOO_LARGE',
    status: 431,
    retryable: false,
    hint: 'Send smaller headers.',
  },
  RequestTimeout: { type: 'REQUEST_TIMEOUT', code: 'REQUEST_TIMEOUT', status: 408, retryable: true, hint: 'Send the request again.' },
  StreamBacklogFull: {
    type: 'STREAM_BACKLOG_FULL',
    code: 'STREAM_BACKLOG_FULL',
    status: 429,
    retryable: true,
    hint: 'Retry after the Retry-After delay.',
  },
  HubSpotBaseUrlNotAllowed: {
    type: 'HUBSPOT_BASE_URL_NOT_ALLOWED',
    code: 'HUBSPOT_BASE_URL_NOT_ALLOWED',
    status: 422,
    retryable: false,
    hint: 'Use https://api.hubapi.com or a URL in HUBSPOT_ALLOWED_BASE_URLS.',
  },
  AlertUrlNotAllowed: {
    type: 'ALERT_URL_NOT_ALLOWED',
    code: 'ALERT_URL_NOT_ALLOWED',
    status: 422,
    retryable: false,
    hint: 'Use an http(s) URL of a host in ALERT_WEBHOOK_ALLOWED_HOSTS.',
  },
  TemporalUnavailable: {
    type: 'TEMPORAL_UNAVAILABLE',
    code: 'TEMPORAL_UNAVAILABLE',
    status: 503,
    retryable: true,
    hint: 'Check that Temporal and a worker are running, then retry.',
  },
  StoreUnavailable: {
    type: 'STORE_UNAVAILABLE',
    code: 'STORE_UNAVAILABLE',
    status: 503,
    retryable: true,
    hint: 'Check the store (DATA_DIR disk space, or the PostgreSQL server of DATABASE_URL), then retry.',
  },
  Internal: { type: 'INTERNAL', code: 'INTERNAL', status: 500, retryable: false, hint: 'See the logs.' },

  // ---- HubSpot: the destination needs fixing (final) ----
  HubSpotAuthFailed: {
    type: 'HubSpotAuthFailed',
    code: 'HUBSPOT_AUTH_FAILED',
    status: 422,
    retryable: false,
    hint: 'Set a valid private-app token or service key on the destination.',
  },
  HubSpotMissingScopes: {
    type: 'HubSpotMissingScopes',
    code: 'HUBSPOT_MISSING_SCOPES',
    status: 422,
    retryable: false,
    hint: 'Grant crm.objects.contacts.read/write and crm.schemas.contacts.read/write to the private app.',
  },
  HubSpotMappingInvalid: {
    type: 'HubSpotMappingInvalid',
    code: 'HUBSPOT_MAPPING_INVALID',
    status: 422,
    retryable: false,
    hint: 'Map to existing, writable HubSpot properties.',
  },
  HubSpotPropertyConflict: {
    type: 'HubSpotPropertyConflict',
    code: 'HUBSPOT_PROPERTY_CONFLICT',
    status: 422,
    retryable: false,
    hint: "Rename or fix the HubSpot property the message names (the audience's status property).",
  },
  /** The MANUAL list of a list-encoded audience cannot be used (a same-named list that is not a MANUAL list, the account's list limit). */
  HubSpotListConflict: {
    type: 'HubSpotListConflict',
    code: 'HUBSPOT_LIST_CONFLICT',
    status: 422,
    retryable: false,
    hint: 'Rename or delete the HubSpot list the message names, or free a list slot in the account, then run again.',
  },
  /** HubSpot refused a request as malformed, unknown or conflicting (400, 404, 409, other 4xx): a bug or an unsupported account. */
  HubSpotRequestInvalid: {
    type: 'HubSpotRequestInvalid',
    code: 'HUBSPOT_REQUEST_FAILED',
    status: 422,
    retryable: false,
    hint: 'Check hubspot.baseUrl; report the message if it persists.',
  },
  /** A destination is bound to the portal it was created on (API: PATCH with another portal's token; runs). */
  DestinationPortalChanged: {
    type: 'DestinationPortalChanged',
    code: 'DESTINATION_PORTAL_CHANGED',
    status: 409,
    retryable: false,
    hint: "Use a token of the destination's portal, or create a new destination for the other portal.",
  },
  DestinationNotFound: {
    type: 'DestinationNotFound',
    code: 'DESTINATION_NOT_FOUND',
    status: 404,
    retryable: false,
    hint: 'The destination was deleted; create it again.',
  },

  // ---- HubSpot: wait and try again ----
  HubSpotRateLimited: {
    type: 'HubSpotRateLimited',
    code: 'HUBSPOT_RATE_LIMITED',
    status: 503,
    retryable: true,
    hint: 'Nothing to do: calls resume after the rate-limit window.',
  },
  HubSpotUnavailable: {
    type: 'HubSpotUnavailable',
    code: 'HUBSPOT_UNAVAILABLE',
    status: 502,
    retryable: true,
    hint: 'Nothing to do: the call is retried; check status.hubspot.com if it persists.',
  },
  /** Batch activation: the page waits (in the workflow) for HubSpot's daily reset, so the activity must not retry. */
  DailyLimitReached: {
    type: 'DailyLimitReached',
    code: 'HUBSPOT_DAILY_LIMIT',
    status: 429,
    retryable: false,
    hint: 'Nothing to do: the activation resumes after the daily reset.',
  },
  /** Streaming: the flush activity retries after the daily reset (`nextRetryDelay`). */
  StreamDailyLimitReached: {
    type: 'StreamDailyLimitReached',
    code: 'HUBSPOT_DAILY_LIMIT_STREAM',
    status: 429,
    retryable: true,
    hint: 'Nothing to do: the stream resumes after the daily reset.',
  },

  // ---- SQL sources and their connections (src/sources/postgres.ts) ----
  /** The query cannot run as written: bad SQL, a missing table or column, no `email` or key column, a duplicate or NULL key. */
  SqlQueryInvalid: {
    type: 'SqlQueryInvalid',
    code: 'SQL_QUERY_INVALID',
    status: 422,
    retryable: false,
    hint: "Fix the sync's query (it must be one SELECT with an email column and a unique, non-NULL key column).",
  },
  /** The query tried to write: a sync reads inside a READ ONLY transaction. */
  SqlWriteRefused: {
    type: 'SqlWriteRefused',
    code: 'SQL_WRITE_REFUSED',
    status: 422,
    retryable: false,
    hint: 'Use a SELECT query: sources are read only.',
  },
  /** The query ran longer than SQL_SOURCE_STATEMENT_TIMEOUT_MS for one page. */
  SqlQueryTimeout: {
    type: 'SqlQueryTimeout',
    code: 'SQL_QUERY_TIMEOUT',
    status: 422,
    retryable: false,
    hint: 'Index the key column, simplify the query, or raise SQL_SOURCE_STATEMENT_TIMEOUT_MS.',
  },
  /** The database refused the connection's credentials or privileges (login revoked, wrong password, no SELECT grant). */
  SourceConnectionFailed: {
    type: 'SourceConnectionFailed',
    code: 'SOURCE_CONNECTION_FAILED',
    status: 422,
    retryable: false,
    hint: "Fix the connection's URL, role or grants (PATCH /v1/connections/:id).",
  },
  /** The database cannot be reached right now (refused, reset, timed out): retried. */
  SourceUnavailable: {
    type: 'SourceUnavailable',
    code: 'SOURCE_UNAVAILABLE',
    status: 503,
    retryable: true,
    hint: 'Nothing to do if the database is restarting; check that the worker can reach it.',
  },
  SourceConnectionNotFound: {
    type: 'SourceConnectionNotFound',
    code: 'SOURCE_CONNECTION_NOT_FOUND',
    status: 404,
    retryable: false,
    hint: 'The connection was deleted; create it again or point the sync at another connection.',
  },
  /** A scheduled run found one of its audiences already running on the destination, so it did not start. */
  SyncRunSkipped: {
    type: 'SyncRunSkipped',
    code: 'SYNC_RUN_SKIPPED',
    status: 409,
    retryable: false,
    hint: 'Nothing to do: the next scheduled run starts once the other run has finished.',
  },

  // ---- the worker's own invariants ----
  AccountingError: {
    type: 'AccountingError',
    code: 'ACCOUNTING_ERROR',
    status: 500,
    retryable: false,
    hint: 'A page did not balance (a bug); report it with the activation id.',
  },
  /** The run's rejected share passed `maxRejectedPercent` (the rejection guard): it stopped sending. */
  RejectionLimit: {
    type: 'REJECTION_LIMIT',
    code: 'REJECTION_LIMIT',
    status: 422,
    retryable: false,
    hint: 'Fix what the top rejection reasons name (mapping, source data), then re-run the rejected members and the rest.',
  },
  AlertDeliveryFailed: {
    type: 'AlertDeliveryFailed',
    code: 'ALERT_DELIVERY_FAILED',
    status: 502,
    retryable: true,
    hint: "Check the webhook receiver; the failure says the receiver's answer.",
  },
} as const satisfies Record<string, FailureDef>;

export type FailureName = keyof typeof Failure;
/** One of the failures above (not just any FailureDef-shaped object). */
export type KnownFailure = (typeof Failure)[FailureName];
export type FailureType = KnownFailure['type'];
export type ErrorCode = KnownFailure['code'];

const all: readonly KnownFailure[] = Object.values(Failure);
const byCode = new Map<string, KnownFailure>(all.map((f) => [f.code, f]));
const byType = new Map<string, KnownFailure>(all.map((f) => [f.type, f]));

export function failureByCode(code: string): KnownFailure | undefined {
  return byCode.get(code);
}

export function failureByType(type: string | undefined | null): KnownFailure | undefined {
  return type ? byType.get(type) : undefined;
}

/** Types a workflow's retry policy must not retry (`nonRetryableErrorTypes`). */
export const NON_RETRYABLE_FAILURE_TYPES: readonly string[] = all.filter((f) => !f.retryable).map((f) => f.type);

/**
 * The Temporal failure for `def`: its type, and non-retryable unless the failure can be retried.
 * `nonRetryable` overrides for failures whose retryability depends on the answer (alert receivers).
 */
export function applicationFailure(
  def: FailureDef,
  message: string,
  options: { details?: unknown[]; nextRetryDelay?: number; nonRetryable?: boolean; cause?: Error } = {},
): ApplicationFailure {
  return ApplicationFailure.create({
    type: def.type,
    message,
    nonRetryable: options.nonRetryable ?? !def.retryable,
    ...(options.details ? { details: options.details } : {}),
    ...(options.nextRetryDelay ? { nextRetryDelay: options.nextRetryDelay } : {}),
    ...(options.cause ? { cause: options.cause } : {}),
  });
}

/** The failure type an error carries: its own (ApplicationFailure) or its cause's (ActivityFailure, ChildWorkflowFailure). */
export function failureTypeOf(err: unknown): string | undefined {
  for (let e = err as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e instanceof ApplicationFailure) return e.type ?? undefined;
  }
  return undefined;
}
