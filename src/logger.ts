/**
 * Structured JSON logs (pino). Tokens and personal data are redacted by key wherever they appear in a
 * log object; code must still never put a token, email or name in a message string.
 */
import pino, { type Logger } from 'pino';

/** Keys whose values never reach a log line. */
export const REDACTED_KEYS = [
  'token', 'accessToken', 'authorization', 'Authorization', 'apiKey', 'hubspotToken', 'sealedToken',
  'email', 'emails', 'firstname', 'lastname', 'properties', 'profile', 'profiles', 'members', 'inputs',
];

const redactPaths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]).concat([
  'req.headers.authorization',
  'headers.authorization',
]);

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      name: options.name,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

export type { Logger };
