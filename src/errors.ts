/**
 * Typed application errors. Every error the user can see carries a stable `code` (one of src/failures.ts),
 * a message that says what to fix, optional `details`, whether retrying can help, and the HTTP status the
 * API answers with. API bodies are `{error: {code, message, details}}`.
 */
import { Failure, failureByCode, type ErrorCode, type KnownFailure } from './failures';

export type { ErrorCode } from './failures';

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  readonly retryable: boolean;
  /** The failure this error is (its Temporal type when an activity raises it). */
  readonly failure: KnownFailure;

  /** `failure` is a failure of src/failures.ts or its code. */
  constructor(
    failure: KnownFailure | ErrorCode,
    message: string,
    options: { details?: unknown; retryable?: boolean; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.failure = typeof failure === 'string' ? (failureByCode(failure) ?? Failure.Internal) : failure;
    this.code = this.failure.code;
    this.status = options.status ?? this.failure.status;
    this.details = options.details;
    this.retryable = options.retryable ?? this.failure.retryable;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return errorBody(this.code, this.message, this.details);
  }
}

/** The API's error body. */
function errorBody(
  code: ErrorCode,
  message: string,
  details?: unknown,
): { error: { code: ErrorCode; message: string; details?: unknown } } {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}
