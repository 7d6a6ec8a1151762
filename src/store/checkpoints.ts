/**
 * Durable progress of an activation's page runs: after every batch the activity writes where it is, so a
 * retried run (another worker, after a kill -9) resumes after its last completed batch. Heartbeats carry
 * the same checkpoint, but the SDK sends them throttled — a crash can lose the latest — so the store is the
 * source of truth. Numbers only: cursors, batch indexes, counts.
 *
 * Two views of the same rows: `RunCheckpoints` is the page activity's own (its format may change with
 * it); `ActivationProgressReader` is for readers such as the API and answers counts only.
 */
import { addCounts, type DeliveryCounts } from '../delivery/counts';
import type { PageCheckpoint } from '../delivery/process-page';
import type { SourceCursor } from '../members/types';
import type { Db } from './db';

export interface RunCheckpoint {
  /** Start of the page in progress (or of the next page, when `page` is empty). */
  cursor: SourceCursor;
  /** Pages completed by this run so far, and their counts. */
  pagesDone: number;
  counts: DeliveryCounts;
  /** Batches of the page in progress already delivered, with their counts. */
  page: PageCheckpoint;
}

/** The page activity's checkpoints (private to it: resume state). */
export interface RunCheckpoints {
  get(activationId: string, runOffset: number): Promise<RunCheckpoint | undefined>;
  put(activationId: string, runOffset: number, checkpoint: RunCheckpoint): Promise<void>;
  deleteAll(activationId: string): Promise<void>;
}

/** Read-only progress for readers outside the worker. */
export interface ActivationProgressReader {
  /**
   * Counts delivered so far by the page run that started at `runOffset` (undefined before its first
   * batch): completed pages exactly, and the page in progress by its delivered batches (received ≈ sent).
   */
  activationProgress(activationId: string, runOffset: number): Promise<DeliveryCounts | undefined>;
}

/** What a page run delivered: its completed pages exactly, and the page in progress by its delivered batches. */
export function checkpointCounts(cp: RunCheckpoint): DeliveryCounts {
  let counts = cp.counts;
  for (const batch of Object.values(cp.page.done)) counts = addCounts(counts, { ...batch, received: batch.upserted + batch.rejected });
  return counts;
}

export class CheckpointStore implements RunCheckpoints, ActivationProgressReader {
  constructor(private readonly db: Db) {}

  async activationProgress(activationId: string, runOffset: number): Promise<DeliveryCounts | undefined> {
    const cp = await this.get(activationId, runOffset);
    if (!cp) return undefined;
    return checkpointCounts(cp);
  }

  async get(activationId: string, runOffset: number): Promise<RunCheckpoint | undefined> {
    const rows = await this.db.query<{ checkpoint_json: string }>(
      'SELECT checkpoint_json FROM activation_checkpoints WHERE activation_id = $1 AND run_offset = $2',
      [activationId, runOffset],
    );
    return rows[0] ? (JSON.parse(rows[0].checkpoint_json) as RunCheckpoint) : undefined;
  }

  async put(activationId: string, runOffset: number, checkpoint: RunCheckpoint): Promise<void> {
    await this.db.query(
      `INSERT INTO activation_checkpoints (activation_id, run_offset, checkpoint_json, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (activation_id, run_offset) DO UPDATE SET checkpoint_json = excluded.checkpoint_json, updated_at = excluded.updated_at`,
      [activationId, runOffset, JSON.stringify(checkpoint), new Date().toISOString()],
    );
  }

  async deleteAll(activationId: string): Promise<void> {
    await this.db.query('DELETE FROM activation_checkpoints WHERE activation_id = $1', [activationId]);
  }
}
