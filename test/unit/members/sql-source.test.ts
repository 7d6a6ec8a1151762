/**
 * The SQL source reader against the real PostgreSQL (a throwaway database): keyset pages, resuming from a
 * cursor, values as CSV cells, and the checks that refuse a query before anything is sent.
 */
import { Client } from 'pg';
import { parseRecord } from '../../../src/mapping/parse-record';
import { checkPostgresUrl, classifyPgError, redactUrl } from '../../../src/members/source-connection';
import { createSqlSourceReader, normalizeQuery, type SqlSourceReader } from '../../../src/members/sql-source';
import { START_CURSOR, type SourceCursor } from '../../../src/members/types';
import { createTempDatabase } from '../../helpers/postgres';

describe('pure parts', () => {
  test('redactUrl drops the password and other query parameters', () => {
    expect(redactUrl('postgres://reader:s3cret@db.example.com:5432/crm?sslmode=require&password=x')).toBe(
      'postgres://reader@db.example.com:5432/crm?sslmode=require',
    );
    expect(redactUrl('postgresql://h/db')).toBe('postgresql://h/db');
    expect(redactUrl('not a url')).toBe('(not a URL)');
  });

  test('checkPostgresUrl', () => {
    expect(checkPostgresUrl('postgres://u@h:5432/db')).toBeUndefined();
    expect(checkPostgresUrl('mysql://u@h/db')).toMatch(/postgres:\/\//);
    expect(checkPostgresUrl('postgres://u@h')).toMatch(/no database/);
  });

  test('normalizeQuery accepts one SELECT and refuses writes and several statements', () => {
    expect(normalizeQuery('  SELECT email FROM t;  ')).toBe('SELECT email FROM t');
    expect(normalizeQuery('-- members\nWITH x AS (SELECT 1) SELECT email FROM t')).toContain('WITH');
    expect(() => normalizeQuery('DELETE FROM t')).toThrow(expect.objectContaining({ code: 'SQL_WRITE_REFUSED' }));
    expect(() => normalizeQuery('/* hi */ update t set a = 1')).toThrow(expect.objectContaining({ code: 'SQL_WRITE_REFUSED' }));
    expect(() => normalizeQuery('SELECT 1; SELECT 2')).toThrow(expect.objectContaining({ code: 'SQL_QUERY_INVALID' }));
    expect(() => normalizeQuery('EXPLAIN SELECT 1')).toThrow(expect.objectContaining({ code: 'SQL_QUERY_INVALID' }));
  });

  test('classifyPgError: credentials and SQL are final, the network retries', () => {
    const c = (code: string, message = 'x') => classifyPgError(Object.assign(new Error(message), { code }), 'db');
    expect(c('28000').code).toBe('SOURCE_CONNECTION_FAILED');
    expect(c('28000').retryable).toBe(false);
    expect(c('42501').code).toBe('SOURCE_CONNECTION_FAILED');
    expect(c('42P01').code).toBe('SQL_QUERY_INVALID');
    expect(c('42601').code).toBe('SQL_QUERY_INVALID');
    expect(c('25006').code).toBe('SQL_WRITE_REFUSED');
    expect(c('57014').code).toBe('SQL_QUERY_TIMEOUT');
    expect(c('ECONNREFUSED').retryable).toBe(true);
    expect(c('57P01').retryable).toBe(true);
  });
});

describe('reading PostgreSQL', () => {
  let db: { url: string; drop(): Promise<void> };
  let pg: Client;
  let reader: SqlSourceReader;
  const ref = (query: string, key?: string) => ({ kind: 'sql' as const, connectionId: 'c1', query, ...(key ? { key } : {}) });

  beforeAll(async () => {
    db = await createTempDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query('CREATE TABLE people (id INT PRIMARY KEY, email TEXT UNIQUE, name TEXT, vip BOOLEAN, joined DATE)');
    await pg.query(
      `INSERT INTO people SELECT g, 'p' || lpad(g::text, 3, '0') || '@example.com', 'Name ' || g, g % 2 = 0, DATE '2026-01-01' + g FROM generate_series(1, 25) g`,
    );
    await pg.query(`UPDATE people SET name = 'Doe, "Jo"' || E'\\n' || 'x' WHERE id = 7`);
    reader = createSqlSourceReader({ resolve: async () => ({ url: db.url, version: '1', label: 'test db' }), statementTimeoutMs: 5000 });
  });
  afterAll(async () => {
    await reader?.close();
    await pg?.end();
    await db?.drop();
  });

  async function readAll(r: ReturnType<typeof ref>, pageSize: number) {
    const pages: string[][] = [];
    let cursor: SourceCursor = START_CURSOR;
    for (;;) {
      const page = await reader.readPage(r, cursor, pageSize);
      pages.push(page.records.map((x) => x.raw));
      cursor = page.next;
      if (page.done) return { pages, cursor };
    }
  }

  test('pages by key, in key order, every row once; describe counts them', async () => {
    const r = ref('SELECT email, name AS "person.name.firstName" FROM people');
    expect(await reader.describe(r)).toEqual({ totalRecords: 25 });
    const { pages, cursor } = await readAll(r, 10);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const emails = pages.flat().map((raw) => raw.split(',')[0]);
    expect(emails).toEqual([...emails].sort());
    expect(new Set(emails).size).toBe(25);
    expect(cursor).toEqual({ offset: 25, line: 26, after: 'p025@example.com' });
  });

  test('a retried page resumes from its cursor, not the start', async () => {
    const r = ref('SELECT email FROM people');
    const first = await reader.readPage(r, START_CURSOR, 10);
    const again = await reader.readPage(r, first.next, 10);
    const retry = await reader.readPage(r, first.next, 10);
    expect(retry.records).toEqual(again.records);
    expect(again.records[0].raw).toBe('p011@example.com');
    expect(again.records[0].line).toBe(11);
  });

  test('values become CSV cells the CSV parser reads back (quotes, commas, newlines, booleans, dates)', async () => {
    const r = ref(
      'SELECT email, name AS "person.name.firstName", vip AS "custom.vip", joined AS "custom.joined" FROM people WHERE id IN (7, 8)',
    );
    const page = await reader.readPage(r, START_CURSOR, 10);
    const parsed = page.records.map((rec) => parseRecord(rec, 'a1', ['person.name.firstName', 'custom.vip', 'custom.joined']));
    expect(parsed[0]).toMatchObject({
      kind: 'member',
      email: 'p007@example.com',
      values: { 'person.name.firstName': 'Doe, "Jo"\nx', 'custom.vip': 'false', 'custom.joined': '2026-01-08' },
    });
    expect(parsed[1]).toMatchObject({ kind: 'member', values: { 'custom.vip': 'true' } });
  });

  test('another key column', async () => {
    const r = ref('SELECT id, email FROM people', 'id');
    const { pages } = await readAll(r, 7);
    expect(pages.flat()[0]).toBe('1,p001@example.com');
    expect(pages.flat()).toHaveLength(25);
  });

  test('refused before anything is sent: no email column, no key column, NULL or duplicate keys', async () => {
    await expect(reader.describe(ref('SELECT name FROM people'))).rejects.toThrow(/no 'email' column/);
    await expect(reader.describe(ref('SELECT email FROM people', 'id'))).rejects.toThrow(/no column 'id'/);
    await expect(reader.describe(ref('SELECT NULL::text AS email'))).rejects.toThrow(/NULL/);
    const dup = ref('SELECT email FROM people UNION ALL SELECT email FROM people WHERE id = 10');
    await expect(readAll(dup, 10)).rejects.toThrow(/must be unique/); // the duplicate straddles a page boundary
    await expect(reader.readPage(ref('SELECT id, email, name AS email FROM people', 'id'), START_CURSOR, 5)).rejects.toThrow(
      /duplicate column 'email'/,
    );
  });

  test('the statement timeout ends a slow page', async () => {
    const slow = createSqlSourceReader({ resolve: async () => ({ url: db.url, version: '1', label: 'test db' }), statementTimeoutMs: 200 });
    try {
      await expect(slow.readPage(ref('SELECT email FROM people, (SELECT pg_sleep(2)) s'), START_CURSOR, 5)).rejects.toMatchObject({
        code: 'SQL_QUERY_TIMEOUT',
      });
    } finally {
      await slow.close();
    }
  });
});
