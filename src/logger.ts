/**
 * Structured JSON logs (pino). Tokens and personal data are redacted by key wherever they appear in a
 * log object; code must still never put a token, email or name in a message string.
 */
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

/** Keys whose values never reach a log line. */
export const REDACTED_KEYS = [
  'token',
  'accessToken',
  'authorization',
  'Authorization',
  'apiKey',
  'hubspotToken',
  'sealedToken',
  'email',
  'emails',
  'firstname',
  'lastname',
  'properties',
  'profile',
  'profiles',
  'members',
  'inputs',
  // Source connections: the database URL carries its password.
  'connectionUrl',
  'sealedUrl',
  'password',
];

const redactPaths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]).concat(['req.headers.authorization', 'headers.authorization']);

/**
 * Errors are logged as type, message, code and stack only. Pino's default serializer copies every
 * enumerable property, and some errors (axios: config.headers) carry credentials in them.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: unknown; kind?: unknown; type?: unknown };
  return {
    type: e.name,
    message: e.message,
    ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: e.code } : {}),
    ...(typeof e.kind === 'string' ? { kind: e.kind } : {}),
    stack: e.stack,
    ...(e.cause instanceof Error ? { cause: serializeError(e.cause) } : {}),
  };
}

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name,
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

/**
 * A log file for pino: 0600 in a 0700 folder (logs name destinations, audiences and errors; tightened
 * when an older version created them world-readable).
 */
export function openLogFile(file: string): pino.DestinationStream & ReturnType<typeof pino.destination> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
  return pino.destination({ dest: file, sync: false, mode: 0o600 });
}

export type { Logger };
