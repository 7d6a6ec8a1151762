/**
 * Signal holds for the stream's continue-as-new. A run cannot close while new signals keep arriving
 * (Temporal rejects the completion and replays the task), so under a sustained stream continue-as-new
 * could be put off indefinitely. Just before it, the run sets a short hold for its destination in the
 * shared store; API processes keep requests (unanswered) while the hold lasts, and the next run lifts
 * it as it starts. A hold is a lease: it expires by itself if the handoff dies half-way.
 */
import type { Db } from '../store/db';

export class StreamHolds {
  constructor(private readonly db: Db) {}

  /** Epoch ms until which signals to this destination's stream should wait (0 = none). */
  async holdUntil(destinationId: string): Promise<number> {
    const rows = await this.db.query<{ hold_until_ms: number | string }>(
      'SELECT hold_until_ms FROM stream_holds WHERE destination_id = $1',
      [destinationId],
    );
    return rows[0] ? Number(rows[0].hold_until_ms) : 0;
  }

  async hold(destinationId: string, forMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO stream_holds (destination_id, hold_until_ms) VALUES ($1, $2)
       ON CONFLICT (destination_id) DO UPDATE SET hold_until_ms = excluded.hold_until_ms`,
      [destinationId, Date.now() + forMs],
    );
  }

  async release(destinationId: string): Promise<void> {
    await this.db.query('DELETE FROM stream_holds WHERE destination_id = $1', [destinationId]);
  }
}
