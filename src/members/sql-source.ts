/**
 * SQL sources: a PostgreSQL query read page by page by keyset on its `key` column (default `email`), so a
 * retried or resumed page reads again exactly from its cursor (the key of the last row delivered, and the
 * count of rows read) — never from the start, and never more than one page in memory.
 *
 * Every page is one short transaction: `BEGIN READ ONLY`, `SET LOCAL statement_timeout`, then
 *   SELECT * FROM (<query>) AS src WHERE src."key" >= $after ORDER BY src."key" LIMIT n + 1
 * (`>=` so the row the cursor names comes back first: a second row with that key is a duplicate key, which
 * would otherwise be skipped silently). Rows become CSV records (column names as the header, as in a CSV
 * upload), so mapping, status columns, rejections and re-sends of rejected rows work as for CSV files.
 * Keyset paging re-runs the query per page: index the key column for large tables.
 */
import type { Pool, PoolClient, QueryResult } from 'pg';
import { AppError } from '../errors';
import { Failure } from '../failures';
import { parseCsvHeader } from '../mapping/parse-record';
import { createPgPool } from '../store/db';
import { classifyPgError } from './source-connection';
import type { SourceCursor, SourcePage, SourceRecord, SourceRef } from './types';

export type SqlSourceRef = Extract<SourceRef, { kind: 'sql' }>;

/** A connection's URL (unsealed, inside the worker only) and a version that changes when the URL does. */
export interface ResolvedConnection {
  url: string;
  version: string;
  /** For messages: the connection's id and redacted URL, never the password. */
  label: string;
}

export interface SqlSourceDeps {
  /** Throws a SourceConnectionNotFound AppError for an unknown (deleted) connection. */
  resolve(connectionId: string): Promise<ResolvedConnection>;
  statementTimeoutMs: number;
}

export const DEFAULT_SQL_KEY = 'email';

const LEADING_COMMENTS = /^(\s+|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*/;
const WRITE_WORDS =
  /^(insert|update|delete|merge|truncate|drop|alter|create|grant|revoke|copy|call|do|vacuum|reindex|cluster|comment|lock|set|reset)\b/i;

/** The query as it is wrapped (trailing `;` removed), or an AppError: it must be one SELECT. */
export function normalizeQuery(query: string): string {
  const q = query.trim().replace(/;\s*$/, '').trim();
  const head = q.replace(LEADING_COMMENTS, '');
  if (WRITE_WORDS.test(head))
    throw new AppError(
      Failure.SqlWriteRefused,
      `The query starts with ${head.split(/\s/)[0].toUpperCase()}: a source query only reads. Write a SELECT (e.g. SELECT email, first_name AS "person.name.firstName" FROM customers).`,
    );
  if (!/^(select|with|values|table)\b/i.test(head) && !head.startsWith('('))
    throw new AppError(Failure.SqlQueryInvalid, 'The query must be one SELECT (or WITH … SELECT) statement.');
  if (q.includes(';'))
    throw new AppError(Failure.SqlQueryInvalid, 'The query holds more than one statement (a `;` inside it); give one SELECT.');
  return q;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function csvCell(v: string | null): string {
  if (v === null) return '';
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Every value as PostgreSQL's text form (no JavaScript Date or number conversion); booleans as true/false. */
const BOOL_OID = 16;
const asText = {
  getTypeParser: (oid: number) => (oid === BOOL_OID ? (v: string) => (v === 't' ? 'true' : v === 'f' ? 'false' : v) : (v: string) => v),
};

export interface SqlSourceReader {
  describe(ref: SqlSourceRef): Promise<{ totalRecords: number }>;
  readPage(ref: SqlSourceRef, cursor: SourceCursor, pageSize: number): Promise<SourcePage>;
  close(): Promise<void>;
}

export function createSqlSourceReader(deps: SqlSourceDeps): SqlSourceReader {
  const pools = new Map<string, { version: string; pool: Pool }>();

  async function poolFor(connectionId: string): Promise<{ pool: Pool; label: string }> {
    const c = await deps.resolve(connectionId);
    const cached = pools.get(connectionId);
    if (cached && cached.version === c.version) return { pool: cached.pool, label: c.label };
    if (cached) void cached.pool.end().catch(() => undefined);
    const pool = createPgPool(c.url, 2);
    pools.set(connectionId, { version: c.version, pool });
    return { pool, label: c.label };
  }

  /** One read-only transaction with the statement timeout; errors classified (what to fix). */
  async function inReadOnly<T>(ref: SqlSourceRef, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const { pool, label } = await poolFor(ref.connectionId);
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw classifyPgError(err, label);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(deps.statementTimeoutMs))}`);
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw classifyPgError(err, label);
    } finally {
      client.release(broken);
    }
  }

  function keyOf(ref: SqlSourceRef): string {
    return ref.key ?? DEFAULT_SQL_KEY;
  }

  /** The result's columns: a valid CSV-style header with an email and the key column. */
  function headerOf(ref: SqlSourceRef, fields: Array<{ name: string }>): string {
    const names = fields.map((f) => f.name);
    const header = names.map(csvCell).join(',');
    let parsed;
    try {
      parsed = parseCsvHeader(header);
    } catch (err) {
      throw new AppError(
        Failure.SqlQueryInvalid,
        `The query's columns cannot be source paths: ${(err as Error).message}. Name every column once (AS "…").`,
      );
    }
    if (parsed.emailColumn < 0)
      throw new AppError(
        Failure.SqlQueryInvalid,
        `The query has no 'email' column (it returns ${names.map((n) => `'${n}'`).join(', ')}); select the member's email AS email.`,
      );
    if (!names.includes(keyOf(ref)))
      throw new AppError(
        Failure.SqlQueryInvalid,
        `The query has no column '${keyOf(ref)}' to page by (the sync's key); select it or set key to a unique column the query returns.`,
      );
    return header;
  }

  return {
    async describe(ref) {
      const q = normalizeQuery(ref.query);
      const k = `src.${quoteIdent(keyOf(ref))}`;
      return inReadOnly(ref, async (client) => {
        const shape = await client.query({ text: `SELECT * FROM (${q}) AS src LIMIT 0`, types: asText });
        headerOf(ref, shape.fields);
        const res = await client.query<{ n: string; nulls: string }>(
          `SELECT count(*) AS n, count(*) FILTER (WHERE ${k} IS NULL) AS nulls FROM (${q}) AS src`,
        );
        const nulls = Number(res.rows[0].nulls);
        if (nulls > 0)
          throw new AppError(
            Failure.SqlQueryInvalid,
            `${nulls} row(s) of the query have no ${keyOf(ref)} (NULL): rows are paged by it, so it must be set on every row. Filter them out (WHERE ${keyOf(ref)} IS NOT NULL) or choose another key.`,
          );
        return { totalRecords: Number(res.rows[0].n) };
      });
    },

    async readPage(ref, cursor, pageSize) {
      const q = normalizeQuery(ref.query);
      const key = keyOf(ref);
      const k = `src.${quoteIdent(key)}`;
      const res: QueryResult<Record<string, string | null>> = await inReadOnly(ref, (client) =>
        client.query(
          cursor.after === undefined
            ? { text: `SELECT * FROM (${q}) AS src ORDER BY ${k} LIMIT $1`, values: [pageSize], types: asText }
            : {
                text: `SELECT * FROM (${q}) AS src WHERE ${k} >= $2 ORDER BY ${k} LIMIT $1`,
                values: [pageSize + 1, cursor.after],
                types: asText,
              },
        ),
      );
      const header = headerOf(ref, res.fields);
      const names = res.fields.map((f) => f.name);
      const duplicate = (value: string) =>
        new AppError(
          Failure.SqlQueryInvalid,
          `Several rows of the query have ${key} '${key === DEFAULT_SQL_KEY ? '(an email)' : value}': rows are paged by ${key}, so it must be unique. Give one row per member (SELECT DISTINCT ON (${key}) …) or set key to a unique column.`,
        );
      let rows = res.rows;
      if (cursor.after !== undefined && rows[0]?.[key] === cursor.after) rows = rows.slice(1); // the row the cursor names
      if (rows.length > pageSize) rows = rows.slice(0, pageSize);
      const records: SourceRecord[] = [];
      let last = cursor.after;
      for (const [i, row] of rows.entries()) {
        const value = row[key];
        if (value === null || value === undefined)
          throw new AppError(
            Failure.SqlQueryInvalid,
            `A row of the query has no ${key} (NULL); filter such rows out (WHERE ${key} IS NOT NULL).`,
          );
        if (value === last) throw duplicate(value);
        last = value;
        records.push({ line: cursor.offset + i + 1, format: 'csv', header, raw: names.map((n) => csvCell(row[n] ?? null)).join(',') });
      }
      const read = records.length;
      return {
        records,
        next: read === 0 ? cursor : { offset: cursor.offset + read, line: cursor.offset + read + 1, after: last },
        done: read < pageSize,
      };
    },

    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.pool.end().catch(() => undefined)));
    },
  };
}
