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

/** Characters of the keyed email hash the workflow sees (96 bits: collisions are not a practical concern). */
export const REF_KEY_CHARS = 16;

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
}

export class SqlIngestLog implements IngestLog {
  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
  ) {}

  async append(destinationId: string, updates: StreamUpdate[]): Promise<number[]> {
    const seqs: number[] = [];
    const now = Date.now();
    for (let i = 0; i < updates.length; i += CHUNK) {
      const chunk = updates.slice(i, i + CHUNK);
      const params: unknown[] = [destinationId, now];
      const values = chunk.map((u) => {
        params.push(this.sealer.seal(JSON.stringify(u), context(destinationId)));
        return `($1, $2, $${params.length})`;
      });
      // One statement: its rows get increasing numbers in VALUES order on both back ends.
      const rows = await this.db.query<{ seq: number | string }>(
        `INSERT INTO stream_ingest (destination_id, created_ms, sealed_update) VALUES ${values.join(', ')} RETURNING seq`,
        params,
      );
      seqs.push(...rows.map((r) => Number(r.seq)).sort((a, b) => a - b));
    }
    return seqs;
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
    let folded: PendingUpdate | undefined;
    for (const seq of seqs) {
      const row = rows.get(seq);
      if (!row) continue;
      const u: PendingUpdate = { ...fromWire({ ...row, n: seq, r: 0 }), refs: seqs };
      folded = folded ? { ...mergeUpdates(folded, u), refs: seqs } : u;
    }
    if (folded) updates.push(folded);
    else missing++;
  }
  return { updates, missing };
}
