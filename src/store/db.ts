/**
 * A small SQL layer over two back ends: embedded SQLite (one machine; the default) and PostgreSQL
 * (several hosts; `DATABASE_URL`). Queries are written once with `$1`-style placeholders in the SQL
 * both dialects share; the few dialect differences live here.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Pool, type PoolClient } from 'pg';

export type Dialect = 'sqlite' | 'pg';

export interface Db {
  readonly dialect: Dialect;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
  /** Runs DDL statements as one transaction that concurrent starters (several hosts) take turns on. */
  migrate(statements: string[]): Promise<void>;
  /**
   * Atomic read-modify-write of one text value in the `kv_locked` table, serialised across processes
   * (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE). `fn` is synchronous on purpose: no
   * other work can interleave with the locked section.
   */
  updateLocked<T>(key: string, fn: (current: string | undefined) => { next: string; result: T }): Promise<T>;
  /**
   * Embedded SQLite only: one write statement bound once per parameter row, in one transaction (or the
   * one already open). In process, an upsert run per row costs about half of shipping the rows as one JSON
   * array for the database to expand, which a PostgreSQL round trip needs (reads are the other way round).
   */
  readonly each?: { run(sql: string, rows: readonly unknown[][]): Promise<void> };
  close(): Promise<void>;
}

/** How long SQLite itself may sleep the thread waiting for a lock (its busy handler). */
const SYNC_BUSY_TIMEOUT_MS = 5;
/** How long a statement waits for a lock in all (SQLite's sleep, then asynchronous retries) before it fails. */
const BUSY_WAIT_MS = 10_000;

const isBusy = (err: unknown) =>
  typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('SQLITE_BUSY');

/**
 * Runs a statement (or an immediate transaction) of the SQLite store; while another connection holds the
 * lock it needs (SQLITE_BUSY: nothing was done), tries again after 1, 2, 4 … 25 ms without blocking the
 * event loop, until BUSY_WAIT_MS have passed.
 */
async function retryBusy<T>(run: () => T): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return run();
    } catch (err) {
      if (!isBusy(err) || Date.now() - started >= BUSY_WAIT_MS) throw err;
    }
    await new Promise((r) => setTimeout(r, Math.min(25, 2 ** attempt)));
  }
}

/** `$1, $2` → `?` with the parameters reordered, for SQLite. */
function toSqlite(sql: string, params: unknown[]): { sql: string; params: unknown[] } {
  const ordered: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_m, n: string) => {
    ordered.push(params[Number(n) - 1]);
    return '?';
  });
  return { sql: text, params: ordered.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)) };
}

class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string) {
    if (file !== ':memory:') {
      // The store holds member data (rejections, checkpoints): 0600 in a 0700 folder. SQLite gives its
      // -wal and -shm files the database file's mode.
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.closeSync(fs.openSync(file, 'a', 0o600));
      fs.chmodSync(file, 0o600);
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    if (file !== ':memory:') for (const f of [`${file}-wal`, `${file}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
    this.db.pragma('synchronous = NORMAL');
    // API and worker processes share the file and take turns on its write lock. better-sqlite3 is
    // synchronous: SQLite's own busy wait (busy_timeout) sleeps the whole thread, and with it every
    // request of an API process. So SQLite waits only briefly itself; longer waits are asynchronous
    // (`retryBusy`), the event loop serving meanwhile, up to BUSY_WAIT_MS as before.
    this.db.pragma(`busy_timeout = ${SYNC_BUSY_TIMEOUT_MS}`);
    this.db.exec('CREATE TABLE IF NOT EXISTS kv_locked (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
  }

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const q = toSqlite(sql, params);
    const stmt = this.prepare(q.sql);
    if (stmt.reader) return retryBusy(() => stmt.all(...q.params) as T[]);
    return retryBusy(() => {
      stmt.run(...q.params);
      return [];
    });
  }

  async exec(sql: string): Promise<void> {
    return retryBusy(() => {
      this.db.exec(sql);
    });
  }

  readonly each = {
    run: async (sql: string, rows: readonly unknown[][]): Promise<void> => {
      const stmt = this.prepare(toSqlite(sql, []).sql);
      const runAll = () => {
        for (const params of rows) stmt.run(...params);
      };
      // Inside a transaction the write lock is held already; alone, the rows take it as one transaction.
      if (this.db.inTransaction) runAll();
      else await retryBusy(() => this.db.transaction(runAll).immediate());
    },
  };

  async migrate(statements: string[]): Promise<void> {
    return retryBusy(() =>
      this.db
        .transaction(() => {
          for (const sql of statements) this.db.exec(sql);
        })
        .immediate(),
    );
  }

  async updateLocked<T>(key: string, fn: (current: string | undefined) => { next: string; result: T }): Promise<T> {
    const select = this.prepare('SELECT v FROM kv_locked WHERE k = ?');
    const upsert = this.prepare('INSERT INTO kv_locked (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v');
    const tx = this.db.transaction(() => {
      const row = select.get(key) as { v: string } | undefined;
      const out = fn(row?.v);
      upsert.run(key, out.next);
      return out.result;
    });
    // `fn` runs only once the write lock is held (BEGIN IMMEDIATE), so a busy retry never repeats it.
    return retryBusy(() => tx.immediate());
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

class PgDb implements Db {
  readonly dialect = 'pg' as const;
  private readonly ready: Promise<void>;

  constructor(private readonly pool: Pool) {
    this.ready = this.lockedDdl(['CREATE TABLE IF NOT EXISTS kv_locked (k TEXT PRIMARY KEY, v TEXT NOT NULL)']);
  }

  /** CREATE ... IF NOT EXISTS races between sessions in PostgreSQL: serialise DDL with an advisory lock. */
  private async lockedDdl(statements: string[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('hubspot-destination-ddl'))");
      for (const sql of statements) await client.query(sql);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async migrate(statements: string[]): Promise<void> {
    await this.ready;
    await this.lockedDdl(statements);
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    await this.ready;
    const res = await this.pool.query(sql, params);
    return res.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.ready;
    await this.pool.query(sql);
  }

  async updateLocked<T>(key: string, fn: (current: string | undefined) => { next: string; result: T }): Promise<T> {
    await this.ready;
    const client: PoolClient = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO kv_locked (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING', [key, '']);
      const res = await client.query('SELECT v FROM kv_locked WHERE k = $1 FOR UPDATE', [key]);
      const current = res.rows[0]?.v as string | undefined;
      const out = fn(current === '' ? undefined : current);
      await client.query('UPDATE kv_locked SET v = $2 WHERE k = $1', [key, out.next]);
      await client.query('COMMIT');
      return out.result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * A pool whose idle connections may be cut by the server (a restart, an administrator) without taking the
 * process down: pg drops the broken client and the next query connects again.
 */
export function createPgPool(connectionString: string, max: number): Pool {
  const pool = new Pool({ connectionString, max });
  pool.on('error', () => undefined);
  return pool;
}

export function openDb(options: { databaseUrl?: string; sqlitePath: string }): Db {
  if (options.databaseUrl) {
    return new PgDb(createPgPool(options.databaseUrl, 10));
  }
  return new SqliteDb(options.sqlitePath);
}
