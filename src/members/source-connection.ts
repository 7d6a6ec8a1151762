/**
 * PostgreSQL source connections: the URL's redacted form (what the API shows and logs), the read-only
 * connection check, and PostgreSQL's errors classified once into failures of src/failures.ts with a
 * message that says what to fix. The URL's password never appears in a message.
 */
import { Client, type DatabaseError } from 'pg';
import { AppError } from '../errors';
import { Failure } from '../failures';

/** `postgres://user:secret@host:5432/db?sslmode=require&password=x` → `postgres://user@host:5432/db?sslmode=require`. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(not a URL)';
  }
  const keep = new URLSearchParams();
  for (const name of ['sslmode', 'application_name']) {
    const v = u.searchParams.get(name);
    if (v !== null) keep.set(name, v);
  }
  const query = keep.toString();
  const user = u.username ? `${u.username}@` : '';
  return `${u.protocol}//${user}${u.host}${u.pathname}${query ? `?${query}` : ''}`;
}

/** A `postgres://` / `postgresql://` URL with a host and a database, or the reason it is not one. */
export function checkPostgresUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'The url is not a URL; use postgres://user:password@host:5432/database';
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return 'The url must start with postgres:// or postgresql://';
  if (!u.hostname) return 'The url has no host';
  if (u.pathname.length <= 1) return 'The url names no database (postgres://user@host:5432/<database>)';
  return undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

/**
 * A PostgreSQL or network error → an AppError naming what to fix. `where` names the connection (its
 * redacted URL or id) for the message. Credentials, privileges and SQL are final; the network retries.
 */
export function classifyPgError(err: unknown, where: string): AppError {
  if (err instanceof AppError) return err;
  const e = err as Partial<DatabaseError> & { code?: string; message?: string };
  const code = e.code ?? '';
  const msg = e.message ?? String(err);
  const at = e.position ? ` (at character ${e.position} of the wrapped query)` : '';
  if (code === '25006')
    return new AppError(
      Failure.SqlWriteRefused,
      `The query tries to write (${msg}); a source query runs in a READ ONLY transaction. Use a SELECT.`,
    );
  // A data-modifying WITH inside the wrapped query (PostgreSQL allows them only at the top level).
  if (code === '0A000' && /data-modifying/i.test(msg))
    return new AppError(Failure.SqlWriteRefused, `The query tries to write (${msg}); a source query only reads. Use a SELECT.`);
  if (code === '57014') return new AppError(Failure.SqlQueryTimeout, `The query was cancelled by the statement timeout (${msg}).`);
  if (code === '28P01' || code === '28000')
    return new AppError(
      Failure.SourceConnectionFailed,
      `PostgreSQL refused the login of ${where}: ${msg}. Fix the connection's role or password.`,
    );
  if (code === '3D000')
    return new AppError(Failure.SourceConnectionFailed, `${where}: ${msg}. Fix the database name in the connection's url.`);
  if (code === '42501')
    return new AppError(
      Failure.SourceConnectionFailed,
      `The role of ${where} may not read what the query reads: ${msg}. GRANT SELECT to it.`,
    );
  if (code === '42P01')
    return new AppError(Failure.SqlQueryInvalid, `The query reads a table that does not exist (dropped or renamed?): ${msg}.`);
  if (code === '42703') return new AppError(Failure.SqlQueryInvalid, `The query names a column that does not exist: ${msg}${at}.`);
  if (NETWORK_CODES.has(code) || code.startsWith('08') || code.startsWith('53') || code.startsWith('57P'))
    return new AppError(Failure.SourceUnavailable, `Cannot reach ${where}: ${msg}.`);
  if (code === 'ENOTFOUND') return new AppError(Failure.SourceConnectionFailed, `The host of ${where} does not resolve: ${msg}.`);
  if (/^[0-9A-Z]{5}$/.test(code))
    return new AppError(Failure.SqlQueryInvalid, `PostgreSQL refused the query: ${msg}${at} (SQLSTATE ${code}).`);
  if (/terminated|timeout|closed|ended/i.test(msg))
    return new AppError(Failure.SourceUnavailable, `Lost the connection to ${where}: ${msg}.`);
  return new AppError(Failure.SourceUnavailable, `Reading from ${where} failed: ${msg}.`);
}

/**
 * The check a connection gets on create (and when its url changes): connect, run `SELECT 1` in a READ
 * ONLY transaction, disconnect. Throws a 422 AppError saying what failed.
 */
export async function checkConnection(url: string, timeoutMs = 10_000): Promise<void> {
  const problem = checkPostgresUrl(url);
  if (problem) throw new AppError('VALIDATION_FAILED', problem);
  const where = redactUrl(url);
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('BEGIN READ ONLY');
    await client.query('SELECT 1');
    await client.query('ROLLBACK');
  } catch (err) {
    const e = classifyPgError(err, where);
    throw new AppError(Failure.SourceConnectionFailed, `Cannot connect to ${where}: ${e.message}`, { status: 422 });
  } finally {
    await client.end().catch(() => undefined);
  }
}
