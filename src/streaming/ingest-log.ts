/**
 * The stream's durable ingest log: the API writes every reduced update here (sealed: it holds the email
 * and mapped values) before it answers 202, and signals the stream workflow only with references — the
 * row's sequence number, a short keyed hash of the email (the buffer's merge and per-email key) and the
 * update time. Contact data never travels through Temporal history. Flush activities read their updates
 * back by sequence number; rows are deleted once their flush is accounted in the workflow (the next flush
 * of the stream carries their numbers: `done`).
 *
 * One table for every destination (`stream_ingest`), in the shared store (SQLite by default, PostgreSQL
 * with DATABASE_URL), so any worker can flush what any API process took.
 */
import type { Sealer } from '../secrets/sealer';
import type { Db } from '../store/db';
import type { EmailHasher } from './email-hash';
import { mergeUpdates } from './buffer';
import type { PendingUpdate, StreamUpdate } from './types';
import { fromWire } from './wire';

/**
 * Characters of the keyed email hash the workflow sees (72 bits). A collision (two emails of one
 * destination buffered under one key) is harmless: the flush folds rows per email, so it only makes the
 * two wait for each other.
 */
export const REF_KEY_CHARS = 12;

/** The buffer key of an update in the workflow: a short keyed hash of the email, never the email. */
export function refKey(hash: EmailHasher, destinationId: string, email: string): string {
  return hash(destinationId, email).slice(0, REF_KEY_CHARS);
}

const context = (destinationId: string) => `stream-ingest:${destinationId}`;
/** Rows per statement (bounded parameter lists on both back ends). */
const CHUNK = 500;

export interface IngestLog {
  /** Stores the updates durably; returns their sequence numbers, in order. */
  append(destinationId: string, updates: StreamUpdate[]): Promise<number[]>;
  /** The updates with these sequence numbers (missing ones are absent from the map). */
  read(destinationId: string, seqs: number[]): Promise<Map<number, StreamUpdate>>;
  /** Deletes rows whose flush is accounted (idempotent). */
  remove(destinationId: string, seqs: number[]): Promise<void>;
  /** Deletes orphan rows: numbered below `below` and written before `before` (src/streaming/orphans.ts); answers how many. */
  sweep(destinationId: string, below: number, before: number): Promise<number>;
}

interface PendingAppend {
  destinationId: string;
  sealed: string[];
  resolve(seqs: number[]): void;
  reject(err: unknown): void;
}

export class SqlIngestLog implements IngestLog {
  /** Appends waiting for the write under way: they are written together (one statement per ≤ CHUNK rows). */
  private readonly queue: PendingAppend[] = [];
  private writing = false;

  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
  ) {}

  /**
   * Group commit: requests arriving while a write is under way share the next one, so thousands of
   * single-profile requests per second cost tens of store transactions, not thousands (the store's single
   * SQLite writer is shared with the workers).
   */
  append(destinationId: string, updates: StreamUpdate[]): Promise<number[]> {
    if (updates.length === 0) return Promise.resolve([]);
    const sealed = updates.map((u) => this.sealer.seal(JSON.stringify(u), context(destinationId)));
    return new Promise((resolve, reject) => {
      this.queue.push({ destinationId, sealed, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    // One turn of the event loop lets concurrent requests join this write.
    setImmediate(() => {
      const group = this.queue.splice(0, this.queue.length);
      void this.write(group).finally(() => {
        this.writing = false;
        this.pump();
      });
    });
  }

  private async write(group: PendingAppend[]): Promise<void> {
    const rows = group.flatMap((a, i) => a.sealed.map((sealed) => ({ owner: i, destinationId: a.destinationId, sealed })));
    const seqs: number[][] = group.map(() => []);
    const failed = new Set<number>();
    const now = Date.now();
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const params: unknown[] = [now];
      const values = chunk.map((r) => {
        params.push(r.destinationId, r.sealed);
        return `($${params.length - 1}, $1, $${params.length})`;
      });
      try {
        // One statement: its rows get increasing numbers in VALUES order on both back ends.
        const inserted = await this.db.query<{ seq: number | string }>(
          `INSERT INTO stream_ingest (destination_id, created_ms, sealed_update) VALUES ${values.join(', ')} RETURNING seq`,
          params,
        );
        const numbers = inserted.map((r) => Number(r.seq)).sort((a, b) => a - b);
        chunk.forEach((r, j) => seqs[r.owner].push(numbers[j]));
      } catch (err) {
        for (const r of chunk)
          if (!failed.has(r.owner)) {
            failed.add(r.owner);
            group[r.owner].reject(err);
          }
      }
    }
    group.forEach((a, i) => {
      if (!failed.has(i)) a.resolve(seqs[i]);
    });
  }

  async read(destinationId: string, seqs: number[]): Promise<Map<number, StreamUpdate>> {
    const out = new Map<number, StreamUpdate>();
    for (let i = 0; i < seqs.length; i += CHUNK) {
      const chunk = seqs.slice(i, i + CHUNK);
      const rows = await this.db.query<{ seq: number | string; sealed_update: string }>(
        `SELECT seq, sealed_update FROM stream_ingest WHERE destination_id = $1 AND seq IN (${chunk.map((_, j) => `$${j + 2}`).join(', ')})`,
        [destinationId, ...chunk],
      );
      for (const r of rows) out.set(Number(r.seq), JSON.parse(this.sealer.open(r.sealed_update, context(destinationId))) as StreamUpdate);
    }
    return out;
  }

  async remove(destinationId: string, seqs: number[]): Promise<void> {
    for (let i = 0; i < seqs.length; i += CHUNK) {
      const chunk = seqs.slice(i, i + CHUNK);
      await this.db.query(
        `DELETE FROM stream_ingest WHERE destination_id = $1 AND seq IN (${chunk.map((_, j) => `$${j + 2}`).join(', ')})`,
        [destinationId, ...chunk],
      );
    }
  }

  async sweep(destinationId: string, below: number, before: number): Promise<number> {
    const rows = await this.db.query<{ seq: number | string }>(
      'DELETE FROM stream_ingest WHERE destination_id = $1 AND seq < $2 AND created_ms < $3 RETURNING seq',
      [destinationId, below, before],
    );
    return rows.length;
  }

  /** Rows not yet deleted for a destination (tests, stats). */
  async count(destinationId: string): Promise<number> {
    const rows = await this.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM stream_ingest WHERE destination_id = $1', [
      destinationId,
    ]);
    return Number(rows[0]?.n ?? 0);
  }
}

/**
 * The updates of a flush given by reference: each entry's log rows folded in the workflow's merge order
 * (newer wins value by value, as in the buffer). `missing`: entries none of whose rows is in the log
 * (never expected: rows are deleted only after their flush is accounted).
 */
export async function loadReferenced(
  log: Pick<IngestLog, 'read'>,
  destinationId: string,
  refs: number[][],
): Promise<{ updates: PendingUpdate[]; missing: number }> {
  const rows = await log.read(destinationId, refs.flat());
  const updates: PendingUpdate[] = [];
  let missing = 0;
  for (const seqs of refs) {
    // Per email (a hash collision must never mix two contacts), in the workflow's merge order.
    const folded = new Map<string, PendingUpdate>();
    for (const seq of seqs) {
      const row = rows.get(seq);
      if (!row) continue;
      const u: PendingUpdate = { ...fromWire({ ...row, n: seq, r: 0 }), refs: seqs };
      const email = row.x || row.e === undefined ? `#${seq}` : row.e;
      const before = folded.get(email);
      folded.set(email, before ? { ...mergeUpdates(before, u), refs: seqs } : u);
    }
    if (folded.size) updates.push(...folded.values());
    else missing++;
  }
  return { updates, missing };
}
