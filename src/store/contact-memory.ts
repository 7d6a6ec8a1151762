/**
 * The confirmed-state memory of change-driven dataflows (docs/dataflows.md, "Confirmed-state memory"):
 * per destination and contact, what HubSpot last confirmed — a fingerprint of the attribute values, the
 * HubSpot record id and the status last written per audience — so a run sends only what changed and can
 * write exits for members that left a snapshot.
 *
 * Contacts are keyed by the keyed HMAC of their email (src/streaming/email-hash.ts); the store never
 * holds an email, a name or a property value.
 *
 * Tables:
 * - `contact_memory`: one row per (destination, key hash); the statuses are a small JSON object in the
 *   row (`{"<audienceId>":"r"|"e"|"x"}`), not a child table, so a confirm is one atomic statement (the
 *   Db layer has no multi-statement transactions) and a contact costs one row and one index entry
 *   however many audiences it is in. The exits query reads the status with the dialect's JSON operator.
 * - `contact_memory_seen`: the keys a run saw, one row per (destination, run, key hash). A set per run
 *   rather than a "last seen run" column: runs of different audiences of one destination may overlap,
 *   and a shared column would let one run's marks hide another's, writing wrong exits.
 */
import type { MemberStatus } from '../members/types';
import type { Db, Dialect } from './db';

export const CONTACT_MEMORY_DDL: string[] = [
  `CREATE TABLE IF NOT EXISTS contact_memory (
    destination_id TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    fingerprint TEXT,
    record_id TEXT,
    statuses TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (destination_id, key_hash)
  )`,
  `CREATE TABLE IF NOT EXISTS contact_memory_seen (
    destination_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    PRIMARY KEY (destination_id, run_id, key_hash)
  )`,
];

/** The statements for one dialect: on SQLite the tables are WITHOUT ROWID, so the primary key is the table and the keys are stored once. */
export function contactMemoryDdl(dialect: Dialect): string[] {
  return CONTACT_MEMORY_DDL.map((sql) => (dialect === 'sqlite' ? `${sql} WITHOUT ROWID` : sql));
}

export interface MemoryRow {
  keyHash: string;
  /** Fingerprint of the attribute values HubSpot last confirmed; null: unknown (send the contact again). */
  fingerprint: string | null;
  /** HubSpot record id (hs_object_id), for writes by id without the email. */
  recordId: string | null;
  /** Status last written and confirmed, per audience id. */
  statuses: Record<string, MemberStatus>;
}

export interface ConfirmRow {
  keyHash: string;
  /** Replaces the remembered one. Null after a partial write (the full state is no longer known). */
  fingerprint: string | null;
  /** Kept when omitted. */
  recordId?: string;
  /** Merged per audience: audiences not named keep their remembered status. */
  statuses?: Readonly<Record<string, MemberStatus>>;
}

export interface ContactMemory {
  lookup(destinationId: string, keyHashes: readonly string[]): Promise<Map<string, MemoryRow>>;
  /**
   * Remembers what HubSpot confirmed. Call it only with contacts HubSpot accepted, after its answer —
   * never for rejected ones and never before the call: a crash between the two then causes a resend,
   * never a missed change (invariant 8). Idempotent.
   */
  confirm(destinationId: string, rows: readonly ConfirmRow[]): Promise<void>;
  /** Replaces remembered record ids (HubSpot merged a contact: its id changed); other columns are kept. */
  updateRecordIds(destinationId: string, rows: ReadonlyArray<{ keyHash: string; recordId: string }>): Promise<void>;
  /** Records that run `runId` holds these contacts in its snapshot. Idempotent. */
  markSeen(destinationId: string, runId: string, keyHashes: readonly string[]): Promise<void>;
  /**
   * Contacts whose last written status for the audience (any of them, given several) is realized or
   * existing and which run `runId` did not mark seen, in key order after `after` (keyset paging; '' to
   * start).
   */
  pageAbsentMembers(
    destinationId: string,
    audienceIds: string | readonly string[],
    runId: string,
    after: string,
    limit: number,
  ): Promise<MemoryRow[]>;
  /** Remembers `exited` for these audiences, after HubSpot confirmed the writes. Idempotent. */
  recordExits(destinationId: string, exits: ReadonlyArray<{ keyHash: string; audienceIds: readonly string[] }>): Promise<void>;
  /** Drops a finished run's seen set. */
  endRun(destinationId: string, runId: string): Promise<void>;
  /** Drops contacts HubSpot no longer has (e.g. an exit by id answered 404). */
  forgetContacts(destinationId: string, keyHashes: readonly string[]): Promise<void>;
  /** Drops everything remembered for the destination: the next run sends every contact. */
  forget(destinationId: string): Promise<void>;
  count(destinationId: string): Promise<number>;
}

const CODE: Record<MemberStatus, string> = { realized: 'r', existing: 'e', exited: 'x' };
const STATUS: Record<string, MemberStatus> = { r: 'realized', e: 'existing', x: 'exited' };

/** Audience ids go into JSON paths (SQLite): plain ids only. */
const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;
function checkAudienceId(id: string): string {
  if (!PLAIN_ID.test(id)) throw new Error(`Audience id '${id.slice(0, 60)}' is not a plain id.`);
  return id;
}

/**
 * Batches travel as one JSON array parameter, expanded by the database (json_each / jsonb_array_elements):
 * one round trip and one SQL text per operation whatever the batch length (SqliteDb caches a prepared
 * statement per text), and no limit on the number of placeholders.
 */
const MAX_BATCH = 5_000;
function batchOf<T>(items: readonly T[]): string {
  if (items.length > MAX_BATCH) throw new Error(`At most ${MAX_BATCH} contacts per call (got ${items.length}).`);
  return JSON.stringify(items);
}

interface Row {
  key_hash: string;
  fingerprint: string | null;
  record_id: string | null;
  statuses: string;
}

function toMemoryRow(r: Row): MemoryRow {
  const codes = JSON.parse(r.statuses) as Record<string, string>;
  const statuses: Record<string, MemberStatus> = {};
  for (const [audienceId, code] of Object.entries(codes)) if (STATUS[code]) statuses[audienceId] = STATUS[code];
  return { keyHash: r.key_hash, fingerprint: r.fingerprint, recordId: r.record_id, statuses };
}

function encodeStatuses(statuses: Readonly<Record<string, MemberStatus>> | undefined): string {
  const codes: Record<string, string> = {};
  for (const [audienceId, status] of Object.entries(statuses ?? {})) codes[checkAudienceId(audienceId)] = CODE[status];
  return JSON.stringify(codes);
}

export class SqlContactMemory implements ContactMemory {
  constructor(private readonly db: Db) {}

  /** SQL merging JSON object `patch` into column `col` (keys of `patch` win). */
  private merge(col: string, patch: string): string {
    return this.db.dialect === 'pg' ? `(${col}::jsonb || ${patch}::jsonb)::text` : `json_patch(${col}, ${patch})`;
  }

  /** SQL reading the status code of the audience named by parameter `param`. */
  private statusOf(col: string, param: string): string {
    return this.db.dialect === 'pg' ? `(${col}::jsonb ->> ${param}::text)` : `json_extract(${col}, '$."' || ${param} || '"')`;
  }

  /** Rows of the JSON array parameter `param`, as table `alias` with the element in `alias.v`. */
  private elements(param: string, alias: string): string {
    return this.db.dialect === 'pg'
      ? `jsonb_array_elements(${param}::jsonb) AS ${alias}(v)`
      : `(SELECT value AS v FROM json_each(${param})) AS ${alias}`;
  }

  /** The JSON array of strings in parameter `param`, as an IN list. */
  private keyList(param: string): string {
    return this.db.dialect === 'pg' ? `(SELECT jsonb_array_elements_text(${param}::jsonb))` : `(SELECT value FROM json_each(${param}))`;
  }

  async lookup(destinationId: string, keyHashes: readonly string[]): Promise<Map<string, MemoryRow>> {
    const out = new Map<string, MemoryRow>();
    if (keyHashes.length === 0) return out;
    const rows = await this.db.query<Row>(
      `SELECT key_hash, fingerprint, record_id, statuses FROM contact_memory
       WHERE destination_id = $1 AND key_hash IN ${this.keyList('$2')}`,
      [destinationId, batchOf([...new Set(keyHashes)])],
    );
    for (const r of rows) out.set(r.key_hash, toMemoryRow(r));
    return out;
  }

  async confirm(destinationId: string, rows: readonly ConfirmRow[]): Promise<void> {
    // One row per key per statement (PostgreSQL refuses to upsert a row twice in one statement); a later
    // confirm of the same key in the batch wins, its statuses merged over the earlier one's.
    const byKey = new Map<string, ConfirmRow>();
    for (const r of rows) {
      const prev = byKey.get(r.keyHash);
      byKey.set(r.keyHash, prev ? { ...r, recordId: r.recordId ?? prev.recordId, statuses: { ...prev.statuses, ...r.statuses } } : r);
    }
    if (byKey.size === 0) return;
    const batch = [...byKey.values()].map((r) => [r.keyHash, r.fingerprint, r.recordId ?? null, encodeStatuses(r.statuses)]);
    // `WHERE true`: SQLite's parser needs it between INSERT ... SELECT and ON CONFLICT.
    await this.db.query(
      `INSERT INTO contact_memory (destination_id, key_hash, fingerprint, record_id, statuses)
       SELECT $1, r.v ->> 0, r.v ->> 1, r.v ->> 2, r.v ->> 3 FROM ${this.elements('$2', 'r')} WHERE true
       ON CONFLICT (destination_id, key_hash) DO UPDATE SET
         fingerprint = excluded.fingerprint,
         record_id = COALESCE(excluded.record_id, contact_memory.record_id),
         statuses = ${this.merge('contact_memory.statuses', 'excluded.statuses')}`,
      [destinationId, batchOf(batch)],
    );
  }

  async updateRecordIds(destinationId: string, rows: ReadonlyArray<{ keyHash: string; recordId: string }>): Promise<void> {
    if (rows.length === 0) return;
    const byKey = new Map(rows.map((r) => [r.keyHash, r.recordId]));
    const pairs = [...byKey].map(([k, id]) => [k, id]);
    const update =
      this.db.dialect === 'pg'
        ? `UPDATE contact_memory m SET record_id = r.v ->> 1 FROM ${this.elements('$2', 'r')}
           WHERE m.destination_id = $1 AND m.key_hash = r.v ->> 0`
        : `UPDATE contact_memory SET record_id = (SELECT r.v ->> 1 FROM ${this.elements('$2', 'r')} WHERE r.v ->> 0 = contact_memory.key_hash)
           WHERE destination_id = $1 AND key_hash IN (SELECT value ->> 0 FROM json_each($2))`;
    await this.db.query(update, [destinationId, batchOf(pairs)]);
  }

  async markSeen(destinationId: string, runId: string, keyHashes: readonly string[]): Promise<void> {
    if (keyHashes.length === 0) return;
    await this.db.query(
      `INSERT INTO contact_memory_seen (destination_id, run_id, key_hash)
       SELECT $1, $2, k.v ->> 0 FROM ${this.elements('$3', 'k')} WHERE true
       ON CONFLICT (destination_id, run_id, key_hash) DO NOTHING`,
      [destinationId, runId, batchOf([...new Set(keyHashes)].map((k) => [k]))],
    );
  }

  async pageAbsentMembers(
    destinationId: string,
    audienceIds: string | readonly string[],
    runId: string,
    after: string,
    limit: number,
  ): Promise<MemoryRow[]> {
    const ids = (typeof audienceIds === 'string' ? [audienceIds] : [...audienceIds]).map(checkAudienceId);
    if (ids.length === 0) return [];
    // A scalar subquery, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join, and on a table not
    // yet analyzed (mid-run) it chose one probing the whole seen set per row — 60× slower at 1,300 rows.
    const member = ids.map((_, i) => `${this.statusOf('m.statuses', `$${i + 5}`)} IN ('r', 'e')`).join(' OR ');
    const rows = await this.db.query<Row>(
      `SELECT m.key_hash, m.fingerprint, m.record_id, m.statuses FROM contact_memory m
       WHERE m.destination_id = $1 AND m.key_hash > $2 AND (${member})
         AND (SELECT 1 FROM contact_memory_seen s WHERE s.destination_id = $1 AND s.run_id = $3 AND s.key_hash = m.key_hash LIMIT 1) IS NULL
       ORDER BY m.key_hash LIMIT $4`,
      [destinationId, after, runId, limit, ...ids],
    );
    return rows.map(toMemoryRow);
  }

  async recordExits(destinationId: string, exits: ReadonlyArray<{ keyHash: string; audienceIds: readonly string[] }>): Promise<void> {
    // Grouped by the set of audiences exited, so one statement covers many contacts.
    const bySet = new Map<string, string[]>();
    for (const e of exits) {
      if (e.audienceIds.length === 0) continue;
      const patch = encodeStatuses(Object.fromEntries([...e.audienceIds].sort().map((a) => [a, 'exited' as const])));
      bySet.set(patch, [...(bySet.get(patch) ?? []), e.keyHash]);
    }
    for (const [patch, keys] of bySet) {
      await this.db.query(
        `UPDATE contact_memory SET statuses = ${this.merge('statuses', '$2')}
         WHERE destination_id = $1 AND key_hash IN ${this.keyList('$3')}`,
        [destinationId, patch, batchOf([...new Set(keys)])],
      );
    }
  }

  async endRun(destinationId: string, runId: string): Promise<void> {
    await this.db.query('DELETE FROM contact_memory_seen WHERE destination_id = $1 AND run_id = $2', [destinationId, runId]);
  }

  async forgetContacts(destinationId: string, keyHashes: readonly string[]): Promise<void> {
    if (keyHashes.length === 0) return;
    await this.db.query(`DELETE FROM contact_memory WHERE destination_id = $1 AND key_hash IN ${this.keyList('$2')}`, [
      destinationId,
      batchOf([...new Set(keyHashes)]),
    ]);
  }

  async forget(destinationId: string): Promise<void> {
    await this.db.query('DELETE FROM contact_memory_seen WHERE destination_id = $1', [destinationId]);
    await this.db.query('DELETE FROM contact_memory WHERE destination_id = $1', [destinationId]);
  }

  async count(destinationId: string): Promise<number> {
    const rows = await this.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM contact_memory WHERE destination_id = $1', [
      destinationId,
    ]);
    return Number(rows[0]?.n ?? 0);
  }
}
