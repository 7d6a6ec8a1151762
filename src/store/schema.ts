/** Tables of the shared store, created on first use. Same DDL for SQLite and PostgreSQL apart from the id column. */
import { listIntentsDdl } from './list-intents';
import type { Db } from './db';
import { planLinesDdl } from './plans';
import { runDefaultsDdl } from './run-defaults';

export async function migrate(db: Db): Promise<void> {
  const serial = db.dialect === 'pg' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  const statements = [
    `CREATE TABLE IF NOT EXISTS destinations (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      description TEXT,
      base_url TEXT NOT NULL,
      sealed_token TEXT NOT NULL,
      portal_id BIGINT NOT NULL,
      time_zone TEXT NOT NULL,
      mapping_json TEXT NOT NULL,
      alerts_json TEXT NOT NULL DEFAULT '[]',
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      api_version TEXT
    )`,
    `CREATE TABLE IF NOT EXISTS destination_audiences (
      destination_id TEXT NOT NULL,
      audience_id TEXT NOT NULL,
      audience_name TEXT NOT NULL,
      property_name TEXT NOT NULL,
      activated_at TEXT NOT NULL,
      PRIMARY KEY (destination_id, audience_id)
    )`,
    `CREATE TABLE IF NOT EXISTS activations (
      id TEXT PRIMARY KEY,
      destination_id TEXT NOT NULL,
      audience_id TEXT NOT NULL,
      audience_name TEXT NOT NULL,
      source_json TEXT NOT NULL,
      rerun_of TEXT,
      rerun_mode TEXT,
      created_at TEXT NOT NULL
    )`,
    // Several-audience runs: the full list and the run's options (the activations row names the first audience).
    `CREATE TABLE IF NOT EXISTS activation_audiences (
      activation_id TEXT PRIMARY KEY,
      audiences_json TEXT NOT NULL,
      options_json TEXT NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS activations_by_destination ON activations (destination_id, created_at)`,
    `CREATE TABLE IF NOT EXISTS rejections (
      seq ${serial},
      activation_id TEXT NOT NULL,
      record_key TEXT NOT NULL,
      line INTEGER NOT NULL,
      reason_code TEXT NOT NULL,
      reason_origin TEXT NOT NULL,
      reason_field TEXT,
      sealed_detail TEXT NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (activation_id, record_key)
    )`,
    `CREATE INDEX IF NOT EXISTS rejections_by_activation ON rejections (activation_id, seq)`,
    `CREATE TABLE IF NOT EXISTS activation_checkpoints (
      activation_id TEXT NOT NULL,
      run_offset BIGINT NOT NULL,
      checkpoint_json TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (activation_id, run_offset)
    )`,
    // Streaming: update time last written per destination and keyed email hash (never the email).
    `CREATE TABLE IF NOT EXISTS stream_last_written (
      destination_id TEXT NOT NULL,
      email_hash TEXT NOT NULL,
      written_ms BIGINT NOT NULL,
      PRIMARY KEY (destination_id, email_hash)
    )`,
    // Streaming: short holds on signals while a stream workflow continues as new (see streaming/holds.ts).
    `CREATE TABLE IF NOT EXISTS stream_holds (
      destination_id TEXT PRIMARY KEY,
      hold_until_ms BIGINT NOT NULL
    )`,
    // List-encoded audiences: the HubSpot list the service keeps per audience (next to destination_audiences).
    `CREATE TABLE IF NOT EXISTS destination_audience_lists (
      destination_id TEXT NOT NULL,
      audience_id TEXT NOT NULL,
      list_id TEXT NOT NULL,
      list_name TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (destination_id, audience_id)
    )`,
    listIntentsDdl(db.dialect), // list-encoded audiences: a run's pending memberships (store/list-intents.ts)
    // Streaming: the durable ingest log (sealed reduced updates; the workflow holds only their numbers).
    `CREATE TABLE IF NOT EXISTS stream_ingest (
      seq ${serial},
      destination_id TEXT NOT NULL,
      created_ms BIGINT NOT NULL,
      sealed_update TEXT NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS stream_ingest_by_destination ON stream_ingest (destination_id, seq)`,
    // Source connections (SQL sources): the URL sealed, its redacted form for views (store/connections.ts).
    `CREATE TABLE IF NOT EXISTS source_connections (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      kind TEXT NOT NULL,
      sealed_url TEXT NOT NULL,
      redacted_url TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    // Syncs: activations on a Temporal Schedule of the same id (store/syncs.ts).
    `CREATE TABLE IF NOT EXISTS syncs (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      destination_id TEXT NOT NULL,
      definition_json TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    ...planLinesDdl(db.dialect), // dry runs: per-member plan lines, sealed (store/plans.ts)
    ...runDefaultsDdl, // per-destination defaults of run options (store/run-defaults.ts)
  ];
  await db.migrate(statements);
  await addColumn(db, 'destinations', 'api_version', 'TEXT');
}

/**
 * Adds a nullable column to a table created before it existed, safely on both stores and from several
 * processes at once: PostgreSQL has ADD COLUMN IF NOT EXISTS; SQLite has not, so it looks first and
 * takes a concurrent process's "duplicate column" as done.
 */
async function addColumn(db: Db, table: string, column: string, type: string): Promise<void> {
  if (db.dialect === 'pg') {
    await db.migrate([`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${column} ${type}`]);
    return;
  }
  const columns = await db.query<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`);
  if (columns.some((c) => c.name === column)) return;
  try {
    await db.migrate([`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`]);
  } catch (err) {
    if (!/duplicate column name/i.test((err as Error).message)) throw err;
  }
}
