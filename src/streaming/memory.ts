/**
 * The stream's ordering memory across flushes: per destination and (hashed) email, the update time last
 * written to HubSpot. A flush drops an update older than that time, so a late update never overwrites a
 * newer one even after the newer one has left the buffer. Shared by all workers through the store.
 */
import type { Db } from '../store/db';
import type { EmailHasher } from './email-hash';

/** The stream's ordering memory: when each email was last written, so older updates never overwrite newer ones. */
export interface UpdateOrderMemory {
  lastWritten(destinationId: string, emails: string[]): Promise<Map<string, number>>;
  record(destinationId: string, written: Array<{ email: string; t: number }>): Promise<void>;
}

export class StreamMemory implements UpdateOrderMemory {
  constructor(
    private readonly db: Db,
    private readonly hash: EmailHasher,
  ) {}

  /** Last written update time (epoch ms) by email, for the emails that have one. */
  async lastWritten(destinationId: string, emails: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (emails.length === 0) return out;
    const byHash = new Map(emails.map((e) => [this.hash(destinationId, e), e]));
    const hashes = [...byHash.keys()];
    const placeholders = hashes.map((_, i) => `$${i + 2}`).join(', ');
    const rows = await this.db.query<{ email_hash: string; written_ms: number | string }>(
      `SELECT email_hash, written_ms FROM stream_last_written WHERE destination_id = $1 AND email_hash IN (${placeholders})`,
      [destinationId, ...hashes],
    );
    for (const r of rows) out.set(byHash.get(r.email_hash)!, Number(r.written_ms));
    return out;
  }

  /** Records written update times; a time never moves backwards. */
  async record(destinationId: string, written: Array<{ email: string; t: number }>): Promise<void> {
    if (written.length === 0) return;
    const params: unknown[] = [destinationId];
    const values = written.map((w) => {
      params.push(this.hash(destinationId, w.email), w.t);
      return `($1, $${params.length - 1}, $${params.length})`;
    });
    await this.db.query(
      `INSERT INTO stream_last_written (destination_id, email_hash, written_ms) VALUES ${values.join(', ')}
       ON CONFLICT (destination_id, email_hash) DO UPDATE SET written_ms =
         CASE WHEN excluded.written_ms > stream_last_written.written_ms THEN excluded.written_ms ELSE stream_last_written.written_ms END`,
      params,
    );
  }
}
