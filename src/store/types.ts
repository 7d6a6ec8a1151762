/** Durable stores shared by the API and workers: SQLite for one machine, PostgreSQL for several hosts. */
import type { SourceRecord } from '../members/types';
import type { RejectionReason } from '../mapping/types';

/** A rejected member, stored with what is needed to re-send it. `record` and `email` are encrypted at rest. */
export interface RejectionRow {
  /** Position in the activation's rejection list (1-based, increasing). */
  seq: number;
  activationId: string;
  line: number;
  email?: string;
  reason: RejectionReason;
  record: SourceRecord;
  createdAt: string;
}

export interface RejectionStore {
  /** Stores rejections of one batch; idempotent per (activationId, key) so a retried page adds no duplicates. */
  add(
    activationId: string,
    rows: Array<{ key: string; line: number; email?: string; reason: RejectionReason; record: SourceRecord }>,
  ): Promise<void>;
  /** Rows with seq > afterSeq, in seq order. */
  page(activationId: string, afterSeq: number, limit: number): Promise<RejectionRow[]>;
  count(activationId: string): Promise<number>;
}
