/**
 * Rejected members, stored durably with their reason and the source record needed to re-send them.
 * Email, HubSpot's message (which can quote the value) and the record are personal data: they are
 * sealed (AES-256-GCM) at rest; the reason code stays plain for grouping.
 */
import type { Sealer } from '../secrets/sealer';
import type { Db } from './db';
import type { RejectionRow, RejectionStore } from './types';

interface SealedDetail {
  email?: string;
  message: string;
  record: RejectionRow['record'];
}

interface Row {
  seq: number | string;
  activation_id: string;
  line: number;
  reason_code: string;
  reason_origin: string;
  reason_field: string | null;
  sealed_detail: string;
  created_at: string;
}

export class SqlRejectionStore implements RejectionStore {
  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
  ) {}

  async add(activationId: string, rows: Parameters<RejectionStore['add']>[1]): Promise<void> {
    const now = new Date().toISOString();
    for (const r of rows) {
      const detail: SealedDetail = { email: r.email, message: r.reason.message, record: r.record };
      await this.db.query(
        `INSERT INTO rejections (activation_id, record_key, line, reason_code, reason_origin, reason_field, sealed_detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (activation_id, record_key) DO NOTHING`,
        [
          activationId,
          r.key,
          r.line,
          r.reason.code,
          r.reason.origin,
          r.reason.field ?? null,
          this.sealer.seal(JSON.stringify(detail), `rejection:${activationId}`),
          now,
        ],
      );
    }
  }

  async page(activationId: string, afterSeq: number, limit: number): Promise<RejectionRow[]> {
    const rows = await this.db.query<Row>('SELECT * FROM rejections WHERE activation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [
      activationId,
      afterSeq,
      limit,
    ]);
    return rows.map((r) => {
      const d = JSON.parse(this.sealer.open(r.sealed_detail, `rejection:${activationId}`)) as SealedDetail;
      return {
        seq: Number(r.seq),
        activationId: r.activation_id,
        line: Number(r.line),
        email: d.email,
        reason: {
          code: r.reason_code,
          message: d.message,
          origin: r.reason_origin as RejectionRow['reason']['origin'],
          ...(r.reason_field ? { field: r.reason_field } : {}),
        },
        record: d.record,
        createdAt: r.created_at,
      };
    });
  }

  async count(activationId: string): Promise<number> {
    const rows = await this.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM rejections WHERE activation_id = $1', [
      activationId,
    ]);
    return Number(rows[0]?.n ?? 0);
  }

  /** Counts by reason code, for summaries and the API. */
  async countByReason(activationId: string): Promise<Record<string, number>> {
    const rows = await this.db.query<{ reason_code: string; n: number | string }>(
      'SELECT reason_code, COUNT(*) AS n FROM rejections WHERE activation_id = $1 GROUP BY reason_code',
      [activationId],
    );
    return Object.fromEntries(rows.map((r) => [r.reason_code, Number(r.n)]));
  }
}
