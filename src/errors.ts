/**
 * Typed application errors, classified once. Every error the user can see carries a stable `code`, a
 * message that says what to fix, optional `details`, whether retrying can help, and the HTTP status the
 * API answers with. API bodies are `{error: {code, message, details}}`.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'STREAM_BACKLOG_FULL'
  | 'HUBSPOT_AUTH_FAILED'
  | 'HUBSPOT_MISSING_SCOPES'
  | 'HUBSPOT_MAPPING_INVALID'
  | 'HUBSPOT_PROPERTY_CONFLICT'
  | 'HUBSPOT_BASE_URL_NOT_ALLOWED'
  | 'ALERT_URL_NOT_ALLOWED'
  | 'HUBSPOT_UNAVAILABLE'
  | 'TEMPORAL_UNAVAILABLE'
  | 'INTERNAL';

const defaultStatus: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  STREAM_BACKLOG_FULL: 429,
  HUBSPOT_AUTH_FAILED: 422,
  HUBSPOT_MISSING_SCOPES: 422,
  HUBSPOT_MAPPING_INVALID: 422,
  HUBSPOT_PROPERTY_CONFLICT: 422,
  HUBSPOT_BASE_URL_NOT_ALLOWED: 422,
  ALERT_URL_NOT_ALLOWED: 422,
  HUBSPOT_UNAVAILABLE: 502,
  TEMPORAL_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; retryable?: boolean; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status ?? defaultStatus[code];
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}
