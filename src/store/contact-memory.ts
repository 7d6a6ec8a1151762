/**
 * The confirmed-state memory of change-driven dataflows (docs/dataflows.md, "Confirmed-state memory"):
 * per destination and contact, what HubSpot last confirmed — a fingerprint of the attribute values, the
 * HubSpot record id and the status last written per audience — so a run sends only what changed and can
 * write exits for members that left a snapshot.
 *
 * Contacts are keyed by a keyed hash of their email (src/streaming/email-hash.ts, `createMemoryKeyHasher`);
 * the store never holds an email, a name or a property value.
 *
 * Rows are compact, so 10 million contacts fit in well under a gigabyte (about 60 bytes a contact on
 * SQLite, docs/dataflows.md "Size"): destinations, audiences and runs are small integers (`memory_ids`),
 * the key and the fingerprint are 16 raw bytes, the record id an integer.
 *
 * Tables:
 * - `memory_contacts`: one row per (destination, key); the statuses are a small JSON object in the row
 *   (`{"<audience n>":"r"|"e"|"x"}`), not a child table, so a confirm is one atomic statement and a
 *   contact costs one row however many audiences it is in. The exits query reads the status with the
 *   dialect's JSON operator.
 * - `memory_seen`: the keys a run saw, one row per (destination, run, key). A set per run rather than a
 *   "last seen run" column: runs of different audiences of one destination may overlap, and a shared
 *   column would let one run's marks hide another's, writing wrong exits.
 * - `memory_ids`: the integer of each destination, audience and run id.
 *
 * Batches travel as one JSON array parameter of hex strings, expanded by the database (json_each /
 * jsonb_array_elements): one round trip and one SQL text per operation whatever the batch length. On
 * embedded SQLite, writes instead bind one prepared statement per row (`Db.each`), which costs about half.
 */
import { changeOf, type Change } from '../dataflow/change';
import { fingerprint as fingerprintOf, type PropertyValues } from '../dataflow/fingerprint';
import type { MemberStatus } from '../members/types';
import type { EmailHasher } from '../streaming/email-hash';
import { openDb, type Db, type Dialect } from './db';

/** Bytes of a memory key and of a fingerprint as stored. */
export const KEY_BYTES = 16;

/**
 * The memory's own SQLite file is written at random keys (keyed hashes), so every committed row dirties a
 * page of its own: a page cache that holds the whole memory (64 MB, about a million contacts) and WAL
 * checkpoints every 40 MB instead of every 4 MB halve what a confirm costs (bench/contact-memory.ts);
 * the WAL file is cut back to 64 MB after a checkpoint.
 */
const MEMORY_SQLITE_PRAGMAS = ['cache_size = -65536', 'wal_autocheckpoint = 10000', 'journal_size_limit = 67108864'];

/** The memory's database: PostgreSQL with a URL, else its own SQLite file, tuned for its writes. */
export function openContactMemoryDb(options: { databaseUrl?: string; sqlitePath: string }): Db {
  const db = openDb(options);
  // Tuning only: a setting SQLite refuses leaves its default, never an unhandled rejection.
  if (db.dialect === 'sqlite') for (const pragma of MEMORY_SQLITE_PRAGMAS) db.exec(`PRAGMA ${pragma}`).catch(() => undefined);
  return db;
}

export function contactMemoryDdl(dialect: Dialect): string[] {
  const blob = dialect === 'pg' ? 'BYTEA' : 'BLOB';
  const noRowid = dialect === 'sqlite' ? ' WITHOUT ROWID' : '';
  return [
    dialect === 'pg'
      ? `CREATE TABLE IF NOT EXISTS memory_ids (n SERIAL PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (kind, name))`
      : `CREATE TABLE IF NOT EXISTS memory_ids (n INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (kind, name))`,
    `CREATE TABLE IF NOT EXISTS memory_contacts (
      dest INTEGER NOT NULL,
      key_hash ${blob} NOT NULL,
      fingerprint ${blob},
      record_id BIGINT,
      statuses TEXT NOT NULL DEFAULT '{}',
      PRIMARY KEY (dest, key_hash)
    )${noRowid}`,
    `CREATE TABLE IF NOT EXISTS memory_seen (
      dest INTEGER NOT NULL,
      run INTEGER NOT NULL,
      key_hash ${blob} NOT NULL,
      PRIMARY KEY (dest, run, key_hash)
    )${noRowid}`,
  ];
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

/** A page's contact as `resolve` takes it: the email (hashed where the memory runs) and the attribute values to fingerprint. */
export interface PageContact {
  email: string;
  attributes: PropertyValues;
  /** The statuses the run writes: with them (and `lookup`), `resolve` says whether the contact changed. */
  statuses?: Readonly<Record<string, MemberStatus>>;
}

export interface ResolvedContact {
  keyHash: string;
  fingerprint: string;
  /** What the memory holds for the contact (only with `rows`; absent: nothing, or `lookup: false`). */
  remembered?: MemoryRow;
  /** Against what is remembered (with `lookup` and the contact's statuses). */
  change?: Change;
}

export interface ConfirmOptions {
  /**
   * The caller goes on without waiting for the commit (a batch run's lane sends its next batch; only its
   * checkpoint waits): the memory may hold the rows longer to commit more of them together. Without it
   * (a stream's flush waits), rows are committed within milliseconds.
   */
  background?: boolean;
}

export interface ResolveOptions {
  /** Read what is remembered (false with `fullResync`). */
  lookup: boolean;
  /** Mark the contacts seen by this run (`exitMissing`). */
  seenRunId?: string;
  /** Return the remembered rows themselves (exits and list intents need them); else only `change`. */
  rows?: boolean;
}

export interface ContactMemory {
  /** The memory's key for an email (a keyed hash; never the email). */
  keyOf(destinationId: string, email: string): string;
  /**
   * A page's contacts as the memory sees them, in order: each one's key and attribute fingerprint, and
   * (with `lookup`) what is remembered; with `seenRunId`, they are marked seen. One call per page, so an
   * implementation can do the hashing and the reads away from the caller's event loop.
   */
  resolve(destinationId: string, contacts: readonly PageContact[], options: ResolveOptions): Promise<ResolvedContact[]>;
  lookup(destinationId: string, keyHashes: readonly string[]): Promise<Map<string, MemoryRow>>;
  /**
   * Remembers what HubSpot confirmed. Call it only with contacts HubSpot accepted, after its answer —
   * never for rejected ones and never before the call: a crash between the two then causes a resend,
   * never a missed change (invariant 8). Idempotent. Resolves once the rows are committed.
   */
  confirm(destinationId: string, rows: readonly ConfirmRow[], options?: ConfirmOptions): Promise<void>;
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
  close?(): Promise<void>;
}

const CODE: Record<MemberStatus, string> = { realized: 'r', existing: 'e', exited: 'x' };
const STATUS: Record<string, MemberStatus> = { r: 'realized', e: 'existing', x: 'exited' };

/** Audience ids are names the service chose nothing about: plain ids only (the API refuses others too). */
const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;
function checkAudienceId(id: string): string {
  if (!PLAIN_ID.test(id)) throw new Error(`Audience id '${id.slice(0, 60)}' is not a plain id.`);
  return id;
}

const MAX_BATCH = 5_000;
function batchOf<T>(items: readonly T[]): string {
  if (items.length > MAX_BATCH) throw new Error(`At most ${MAX_BATCH} contacts per call (got ${items.length}).`);
  return JSON.stringify(items);
}

/** A key or fingerprint (base64url of 16 bytes) as stored. */
function bytesOf(b64: string, what: string): Buffer {
  const bytes = Buffer.from(b64, 'base64url');
  if (bytes.length !== KEY_BYTES) throw new Error(`A memory ${what} is ${KEY_BYTES} bytes (got ${bytes.length}).`);
  return bytes;
}
/** The same as hex, for the JSON batches. */
const hexOf = (b64: string, what: string): string => bytesOf(b64, what).toString('hex');
const keyBytes = (k: string) => bytesOf(k, 'key');
const keyHex = (k: string) => hexOf(k, 'key');
const b64Of = (b: Buffer | Uint8Array): string => Buffer.from(b).toString('base64url');

/** HubSpot record ids are integers; anything else is not kept (lists then find the contact by email). */
function recordIdValue(id: string | undefined): string | null {
  return id !== undefined && /^\d{1,18}$/.test(id) ? id : null;
}

interface Row {
  key_hash: Buffer;
  fingerprint: Buffer | null;
  record_id: number | string | null;
  statuses: string;
}

type IdKind = 'destination' | 'audience' | 'run';

export class SqlContactMemory implements ContactMemory {
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<number, string>();
  private ready: Promise<void> | undefined;
  private tablesReady: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly hashKey: EmailHasher,
    /** `legacyFrom`: a store that may hold an earlier version's memory, moved in on first use. */
    private readonly options: { legacyFrom?: Db } = {},
  ) {}

  /** Creates the tables on first use (the memory may live in its own database, docs/dataflows.md). */
  private tables(): Promise<void> {
    this.tablesReady ??= this.db.migrate(contactMemoryDdl(this.db.dialect));
    this.tablesReady.catch(() => (this.tablesReady = undefined)); // a failed start is tried again by the next call
    return this.tablesReady;
  }

  /** Tables created and an earlier version's memory moved in: every public operation waits for it. */
  private started(): Promise<void> {
    this.ready ??= (async () => {
      await this.tables();
      if (this.options.legacyFrom) await this.importLegacy(this.options.legacyFrom);
    })();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  /** Drops the cached integer ids (after a rolled-back transaction that may have assigned some). */
  resetCaches(): void {
    this.ids.clear();
    this.names.clear();
  }

  keyOf(destinationId: string, email: string): string {
    return this.hashKey(destinationId, email);
  }

  private hex(param: string): string {
    return this.db.dialect === 'pg' ? `decode(${param}, 'hex')` : `unhex(${param})`;
  }

  /** SQL merging JSON object `patch` into column `col` (keys of `patch` win). */
  private merge(col: string, patch: string): string {
    return this.db.dialect === 'pg' ? `(${col}::jsonb || ${patch}::jsonb)::text` : `json_patch(${col}, ${patch})`;
  }

  /** Rows of the JSON array parameter `param`, as table `alias` with the element in `alias.v`. */
  private elements(param: string, alias: string): string {
    return this.db.dialect === 'pg'
      ? `jsonb_array_elements(${param}::jsonb) AS ${alias}(v)`
      : `(SELECT value AS v FROM json_each(${param})) AS ${alias}`;
  }

  /** The JSON array of hex keys in parameter `param`, as an IN list of keys. */
  private keyList(param: string): string {
    return this.db.dialect === 'pg'
      ? `(SELECT decode(k, 'hex') FROM jsonb_array_elements_text(${param}::jsonb) AS t(k))`
      : `(SELECT unhex(value) FROM json_each(${param}))`;
  }

  /** The JSON array of hex keys in parameter `param`, as a table `alias` with the key in column `k`. */
  private keyRows(param: string, alias: string): string {
    return this.db.dialect === 'pg'
      ? `(SELECT decode(t.h, 'hex') AS k FROM jsonb_array_elements_text(${param}::jsonb) AS t(h)) AS ${alias}`
      : `(SELECT unhex(value) AS k FROM json_each(${param})) AS ${alias}`;
  }

  /** The integer of an id; `create: false` answers undefined for an id never stored (nothing remembered under it). */
  private async idOf(kind: IdKind, name: string, create: boolean): Promise<number | undefined> {
    await this.tables();
    const cacheKey = `${kind}\u0000${name}`;
    const cached = this.ids.get(cacheKey);
    if (cached !== undefined) return cached;
    if (create)
      await this.db.query('INSERT INTO memory_ids (kind, name) VALUES ($1, $2) ON CONFLICT (kind, name) DO NOTHING', [kind, name]);
    const rows = await this.db.query<{ n: number }>('SELECT n FROM memory_ids WHERE kind = $1 AND name = $2', [kind, name]);
    if (!rows[0]) return undefined;
    const n = Number(rows[0].n);
    this.ids.set(cacheKey, n);
    if (kind === 'audience') this.names.set(n, name);
    return n;
  }

  private async destination(destinationId: string, create = false): Promise<number | undefined> {
    return this.idOf('destination', destinationId, create);
  }

  private async audience(audienceId: string): Promise<number> {
    return (await this.idOf('audience', checkAudienceId(audienceId), true))!;
  }

  /** Status codes keyed by audience integer, as stored; `ids` holds the integer of every audience named. */
  private encodeStatuses(statuses: Readonly<Record<string, MemberStatus>> | undefined, ids: ReadonlyMap<string, number>): string {
    let text = '';
    for (const [audienceId, status] of Object.entries(statuses ?? {}))
      text += `${text ? ',' : ''}"${ids.get(audienceId)!}":"${CODE[status]}"`;
    return `{${text}}`;
  }

  /** The integers of the audiences these status maps name (checked plain ids), created as needed. */
  private async audienceIds(maps: Iterable<Readonly<Record<string, MemberStatus>> | undefined>): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for (const m of maps) for (const a of Object.keys(m ?? {})) if (!ids.has(a)) ids.set(a, await this.audience(a));
    return ids;
  }

  private async toMemoryRows(rows: Row[]): Promise<MemoryRow[]> {
    const out: MemoryRow[] = [];
    for (const r of rows) {
      const codes = JSON.parse(r.statuses) as Record<string, string>;
      const statuses: Record<string, MemberStatus> = {};
      for (const [n, code] of Object.entries(codes)) {
        const name = this.names.get(Number(n)) ?? (await this.audienceName(Number(n)));
        if (name !== undefined && STATUS[code]) statuses[name] = STATUS[code];
      }
      out.push({
        keyHash: b64Of(r.key_hash),
        fingerprint: r.fingerprint ? b64Of(r.fingerprint) : null,
        recordId: r.record_id === null ? null : String(r.record_id),
        statuses,
      });
    }
    return out;
  }

  /** An audience integer stored by another process. */
  private async audienceName(n: number): Promise<string | undefined> {
    const rows = await this.db.query<{ name: string }>("SELECT name FROM memory_ids WHERE kind = 'audience' AND n = $1", [n]);
    if (rows[0]) {
      this.names.set(n, rows[0].name);
      this.ids.set(`audience\u0000${rows[0].name}`, n);
    }
    return rows[0]?.name;
  }

  async resolve(destinationId: string, contacts: readonly PageContact[], options: ResolveOptions): Promise<ResolvedContact[]> {
    await this.started();
    const out: ResolvedContact[] = contacts.map((c) => ({
      keyHash: this.hashKey(destinationId, c.email),
      fingerprint: fingerprintOf(c.attributes),
    }));
    for (let i = 0; i < out.length; i += 1000) {
      const keys = out.slice(i, i + 1000).map((r) => r.keyHash);
      if (options.seenRunId) await this.markSeen(destinationId, options.seenRunId, keys);
      if (!options.lookup) continue;
      const remembered = await this.lookup(destinationId, keys);
      for (let j = i; j < Math.min(i + 1000, out.length); j++) {
        const row = remembered.get(out[j].keyHash);
        if (row && options.rows) out[j].remembered = row;
        const statuses = contacts[j].statuses;
        if (statuses) out[j].change = changeOf(row, { fingerprint: out[j].fingerprint, statuses });
      }
    }
    return out;
  }

  async lookup(destinationId: string, keyHashes: readonly string[]): Promise<Map<string, MemoryRow>> {
    await this.started();
    const out = new Map<string, MemoryRow>();
    const dest = keyHashes.length ? await this.destination(destinationId) : undefined;
    if (dest === undefined) return out;
    // Reads stay one statement per call on SQLite too: a lookup per key costs more than expanding the array.
    const rows = await this.db.query<Row>(
      `SELECT key_hash, fingerprint, record_id, statuses FROM memory_contacts WHERE dest = $1 AND key_hash IN ${this.keyList('$2')}`,
      [dest, batchOf([...new Set(keyHashes)].map(keyHex))],
    );
    for (const r of await this.toMemoryRows(rows)) out.set(r.keyHash, r);
    return out;
  }

  async confirm(destinationId: string, rows: readonly ConfirmRow[], _options?: ConfirmOptions): Promise<void> {
    await this.started();
    await this.confirmRows(destinationId, rows);
  }

  private async confirmRows(destinationId: string, rows: readonly ConfirmRow[]): Promise<void> {
    // One row per key per statement (PostgreSQL refuses to upsert a row twice in one statement); a later
    // confirm of the same key in the batch wins, its statuses merged over the earlier one's.
    const byKey = new Map<string, ConfirmRow>();
    for (const r of rows) {
      const prev = byKey.get(r.keyHash);
      byKey.set(r.keyHash, prev ? { ...r, recordId: r.recordId ?? prev.recordId, statuses: { ...prev.statuses, ...r.statuses } } : r);
    }
    if (byKey.size === 0) return;
    const dest = await this.destination(destinationId, true);
    const ids = await this.audienceIds([...byKey.values()].map((r) => r.statuses));
    const upsert = (values: string) => `INSERT INTO memory_contacts (dest, key_hash, fingerprint, record_id, statuses) ${values}
       ON CONFLICT (dest, key_hash) DO UPDATE SET
         fingerprint = excluded.fingerprint,
         record_id = COALESCE(excluded.record_id, memory_contacts.record_id),
         statuses = ${this.merge('memory_contacts.statuses', 'excluded.statuses')}`;
    if (this.db.each) {
      const params: unknown[][] = [];
      for (const r of byKey.values())
        params.push([
          dest,
          keyBytes(r.keyHash),
          r.fingerprint === null ? null : bytesOf(r.fingerprint, 'fingerprint'),
          recordIdValue(r.recordId),
          this.encodeStatuses(r.statuses, ids),
        ]);
      await this.db.each.run(upsert('VALUES ($1, $2, $3, $4, $5)'), params);
      return;
    }
    const batch: Array<Array<string | null>> = [];
    for (const r of byKey.values())
      batch.push([
        keyHex(r.keyHash),
        r.fingerprint === null ? null : hexOf(r.fingerprint, 'fingerprint'),
        recordIdValue(r.recordId),
        this.encodeStatuses(r.statuses, ids),
      ]);
    const recordId = this.db.dialect === 'pg' ? '(r.v ->> 2)::bigint' : 'r.v ->> 2';
    // `WHERE true`: SQLite's parser needs it between INSERT ... SELECT and ON CONFLICT.
    await this.db.query(
      upsert(
        `SELECT $1, ${this.hex('r.v ->> 0')}, ${this.hex('r.v ->> 1')}, ${recordId}, r.v ->> 3 FROM ${this.elements('$2', 'r')} WHERE true`,
      ),
      [dest, batchOf(batch)],
    );
  }

  async updateRecordIds(destinationId: string, rows: ReadonlyArray<{ keyHash: string; recordId: string }>): Promise<void> {
    await this.started();
    const byKey = new Map(rows.map((r) => [r.keyHash, recordIdValue(r.recordId)]));
    const pairs = [...byKey].filter(([, id]) => id !== null).map(([k, id]) => [keyHex(k), id]);
    const dest = pairs.length ? await this.destination(destinationId) : undefined;
    if (dest === undefined) return;
    const update =
      this.db.dialect === 'pg'
        ? `UPDATE memory_contacts m SET record_id = (r.v ->> 1)::bigint FROM ${this.elements('$2', 'r')}
           WHERE m.dest = $1 AND m.key_hash = decode(r.v ->> 0, 'hex')`
        : `UPDATE memory_contacts SET record_id = (SELECT r.v ->> 1 FROM ${this.elements('$2', 'r')} WHERE unhex(r.v ->> 0) = memory_contacts.key_hash)
           WHERE dest = $1 AND key_hash IN (SELECT unhex(value ->> 0) FROM json_each($2))`;
    await this.db.query(update, [dest, batchOf(pairs)]);
  }

  async markSeen(destinationId: string, runId: string, keyHashes: readonly string[]): Promise<void> {
    await this.started();
    await this.markSeenRows(destinationId, runId, keyHashes);
  }

  private async markSeenRows(destinationId: string, runId: string, keyHashes: readonly string[]): Promise<void> {
    if (keyHashes.length === 0) return;
    const dest = await this.destination(destinationId, true);
    const run = await this.idOf('run', runId, true);
    const unique = [...new Set(keyHashes)];
    if (this.db.each) {
      await this.db.each.run(
        'INSERT INTO memory_seen (dest, run, key_hash) VALUES ($1, $2, $3) ON CONFLICT (dest, run, key_hash) DO NOTHING',
        unique.map((k) => [dest, run, keyBytes(k)]),
      );
      return;
    }
    await this.db.query(
      `INSERT INTO memory_seen (dest, run, key_hash)
       SELECT $1, $2, s.k FROM ${this.keyRows('$3', 's')} WHERE true
       ON CONFLICT (dest, run, key_hash) DO NOTHING`,
      [dest, run, batchOf(unique.map(keyHex))],
    );
  }

  async pageAbsentMembers(
    destinationId: string,
    audienceIds: string | readonly string[],
    runId: string,
    after: string,
    limit: number,
  ): Promise<MemoryRow[]> {
    await this.started();
    const names = (typeof audienceIds === 'string' ? [audienceIds] : [...audienceIds]).map(checkAudienceId);
    const dest = names.length ? await this.destination(destinationId) : undefined;
    if (dest === undefined) return [];
    const ns = await Promise.all(names.map((a) => this.audience(a)));
    const run = (await this.idOf('run', runId, true))!;
    const statusOf = (n: number) => (this.db.dialect === 'pg' ? `(m.statuses::jsonb ->> '${n}')` : `json_extract(m.statuses, '$."${n}"')`);
    const member = ns.map((n) => `${statusOf(n)} IN ('r', 'e')`).join(' OR ');
    const start = after === '' ? Buffer.alloc(0) : Buffer.from(after, 'base64url');
    // A scalar subquery, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join, and on a table not
    // yet analyzed (mid-run) it chose one probing the whole seen set per row — 60× slower at 1,300 rows.
    const rows = await this.db.query<Row>(
      `SELECT m.key_hash, m.fingerprint, m.record_id, m.statuses FROM memory_contacts m
       WHERE m.dest = $1 AND m.key_hash > $2 AND (${member})
         AND (SELECT 1 FROM memory_seen s WHERE s.dest = $1 AND s.run = $3 AND s.key_hash = m.key_hash LIMIT 1) IS NULL
       ORDER BY m.key_hash LIMIT $4`,
      [dest, start, run, limit],
    );
    return this.toMemoryRows(rows);
  }

  async recordExits(destinationId: string, exits: ReadonlyArray<{ keyHash: string; audienceIds: readonly string[] }>): Promise<void> {
    await this.started();
    // Grouped by the set of audiences exited, so one statement covers many contacts.
    const bySet = new Map<string, string[]>();
    for (const e of exits) {
      if (e.audienceIds.length === 0) continue;
      const exited = Object.fromEntries([...e.audienceIds].sort().map((a) => [a, 'exited' as const]));
      const patch = this.encodeStatuses(exited, await this.audienceIds([exited]));
      bySet.set(patch, [...(bySet.get(patch) ?? []), keyHex(e.keyHash)]);
    }
    const dest = bySet.size ? await this.destination(destinationId) : undefined;
    if (dest === undefined) return;
    for (const [patch, keys] of bySet) {
      await this.db.query(
        `UPDATE memory_contacts SET statuses = ${this.merge('statuses', '$2')} WHERE dest = $1 AND key_hash IN ${this.keyList('$3')}`,
        [dest, patch, batchOf([...new Set(keys)])],
      );
    }
  }

  async endRun(destinationId: string, runId: string): Promise<void> {
    await this.started();
    const dest = await this.destination(destinationId);
    const run = await this.idOf('run', runId, false);
    if (dest !== undefined && run !== undefined) await this.db.query('DELETE FROM memory_seen WHERE dest = $1 AND run = $2', [dest, run]);
  }

  async forgetContacts(destinationId: string, keyHashes: readonly string[]): Promise<void> {
    await this.started();
    const dest = keyHashes.length ? await this.destination(destinationId) : undefined;
    if (dest === undefined) return;
    await this.db.query(`DELETE FROM memory_contacts WHERE dest = $1 AND key_hash IN ${this.keyList('$2')}`, [
      dest,
      batchOf([...new Set(keyHashes)].map(keyHex)),
    ]);
  }

  async forget(destinationId: string): Promise<void> {
    await this.started();
    const dest = await this.destination(destinationId);
    if (dest === undefined) return;
    await this.db.query('DELETE FROM memory_seen WHERE dest = $1', [dest]);
    await this.db.query('DELETE FROM memory_contacts WHERE dest = $1', [dest]);
  }

  async count(destinationId: string): Promise<number> {
    await this.started();
    const dest = await this.destination(destinationId);
    if (dest === undefined) return 0;
    const rows = await this.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM memory_contacts WHERE dest = $1', [dest]);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Moves a memory kept by an earlier version (tables `contact_memory` and `contact_memory_seen` in `from`,
   * text keys of 32 bytes) into this one and drops the old tables. The keys are the same HMAC truncated to
   * 16 bytes, so nothing is forgotten: no resend, and runs in flight keep their seen sets. Idempotent; a
   * concurrent starter that finds the tables gone has nothing left to do.
   */
  async importLegacy(from: Db): Promise<number> {
    await this.tables();
    const exists =
      from.dialect === 'pg'
        ? await from.query("SELECT 1 FROM pg_tables WHERE tablename = 'contact_memory'")
        : await from.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'contact_memory'");
    if (exists.length === 0) return 0;
    const short = (k: string) => b64Of(Buffer.from(k, 'base64url').subarray(0, KEY_BYTES));
    let moved = 0;
    let after = ['', ''];
    for (;;) {
      const rows = await from.query<{
        destination_id: string;
        key_hash: string;
        fingerprint: string | null;
        record_id: string | null;
        statuses: string;
      }>(
        `SELECT destination_id, key_hash, fingerprint, record_id, statuses FROM contact_memory
         WHERE destination_id > $1 OR (destination_id = $1 AND key_hash > $2) ORDER BY destination_id, key_hash LIMIT 1000`,
        after,
      );
      if (rows.length === 0) break;
      const byDest = new Map<string, ConfirmRow[]>();
      for (const r of rows) {
        const statuses: Record<string, MemberStatus> = {};
        for (const [a, code] of Object.entries(JSON.parse(r.statuses) as Record<string, string>))
          if (STATUS[code]) statuses[a] = STATUS[code];
        const list = byDest.get(r.destination_id) ?? [];
        list.push({ keyHash: short(r.key_hash), fingerprint: r.fingerprint, ...(r.record_id ? { recordId: r.record_id } : {}), statuses });
        byDest.set(r.destination_id, list);
      }
      for (const [dest, list] of byDest) await this.confirmRows(dest, list);
      moved += rows.length;
      after = [rows[rows.length - 1].destination_id, rows[rows.length - 1].key_hash];
    }
    let seenAfter = ['', '', ''];
    for (;;) {
      const rows = await from.query<{ destination_id: string; run_id: string; key_hash: string }>(
        `SELECT destination_id, run_id, key_hash FROM contact_memory_seen
         WHERE (destination_id, run_id, key_hash) > ($1, $2, $3) ORDER BY destination_id, run_id, key_hash LIMIT 1000`,
        seenAfter,
      );
      if (rows.length === 0) break;
      const byRun = new Map<string, { dest: string; run: string; keys: string[] }>();
      for (const r of rows) {
        const k = `${r.destination_id}\u0000${r.run_id}`;
        const entry = byRun.get(k) ?? { dest: r.destination_id, run: r.run_id, keys: [] };
        entry.keys.push(short(r.key_hash));
        byRun.set(k, entry);
      }
      for (const e of byRun.values()) await this.markSeenRows(e.dest, e.run, e.keys);
      const last = rows[rows.length - 1];
      seenAfter = [last.destination_id, last.run_id, last.key_hash];
    }
    await from.migrate(['DROP TABLE IF EXISTS contact_memory_seen', 'DROP TABLE IF EXISTS contact_memory']);
    return moved;
  }
}
