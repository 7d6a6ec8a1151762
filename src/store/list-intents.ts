/**
 * What a run's lists should get, recorded while its pages are upserted (docs/dataflows.md, "Audiences as
 * lists"): per (activation, audience, contact key) the record id and whether it is to be added or removed.
 * The list step after the upserts reads them back and writes memberships in calls of up to 100,000 ids,
 * without reading the source again. Rows hold keyed email hashes and HubSpot record ids only (no personal
 * data), like the contact memory. A later intent for the same contact replaces the earlier one.
 */
import type { Db, Dialect } from './db';

export const LIST_INTENTS_DDL = `CREATE TABLE IF NOT EXISTS list_intents (
    activation_id TEXT NOT NULL,
    audience_id TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL,
    PRIMARY KEY (activation_id, audience_id, key_hash)
  )`;

export function listIntentsDdl(dialect: Dialect): string {
  return dialect === 'sqlite' ? `${LIST_INTENTS_DDL} WITHOUT ROWID` : LIST_INTENTS_DDL;
}

export interface ListIntent {
  audienceId: string;
  keyHash: string;
  recordId: string;
  op: 'add' | 'remove';
}

export interface ListIntents {
  /** Records intents (idempotent; the last one per contact and audience wins). */
  record(activationId: string, intents: readonly ListIntent[]): Promise<void>;
  /** One audience's intents in key order after `after` (keyset paging; '' to start). */
  page(activationId: string, audienceId: string, after: string, limit: number): Promise<Array<Omit<ListIntent, 'audienceId'>>>;
  /** Drops a run's intents once its lists are written. */
  end(activationId: string): Promise<void>;
}

const CHUNK = 5_000;

export class SqlListIntents implements ListIntents {
  constructor(private readonly db: Db) {}

  async record(activationId: string, intents: readonly ListIntent[]): Promise<void> {
    // One row per key per statement (PostgreSQL refuses to upsert a row twice in one statement): the last wins.
    const byKey = new Map<string, ListIntent>();
    for (const i of intents) byKey.set(`${i.audienceId}\u0000${i.keyHash}`, i);
    const rows = [...byKey.values()].map((i) => [i.audienceId, i.keyHash, i.recordId, i.op === 'add' ? 'a' : 'r']);
    const elements = this.db.dialect === 'pg' ? `jsonb_array_elements($2::jsonb) AS r(v)` : `(SELECT value AS v FROM json_each($2)) AS r`;
    for (let i = 0; i < rows.length; i += CHUNK) {
      await this.db.query(
        `INSERT INTO list_intents (activation_id, audience_id, key_hash, record_id, op)
         SELECT $1, r.v ->> 0, r.v ->> 1, r.v ->> 2, r.v ->> 3 FROM ${elements} WHERE true
         ON CONFLICT (activation_id, audience_id, key_hash) DO UPDATE SET record_id = excluded.record_id, op = excluded.op`,
        [activationId, JSON.stringify(rows.slice(i, i + CHUNK))],
      );
    }
  }

  async page(activationId: string, audienceId: string, after: string, limit: number): Promise<Array<Omit<ListIntent, 'audienceId'>>> {
    const rows = await this.db.query<{ key_hash: string; record_id: string; op: string }>(
      `SELECT key_hash, record_id, op FROM list_intents
       WHERE activation_id = $1 AND audience_id = $2 AND key_hash > $3 ORDER BY key_hash LIMIT $4`,
      [activationId, audienceId, after, limit],
    );
    return rows.map((r) => ({ keyHash: r.key_hash, recordId: r.record_id, op: r.op === 'a' ? 'add' : 'remove' }));
  }

  async end(activationId: string): Promise<void> {
    await this.db.query('DELETE FROM list_intents WHERE activation_id = $1', [activationId]);
  }
}
