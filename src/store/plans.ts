/**
 * Dry-run plans: one line per member (would create, update with old → new values, unchanged, skip,
 * reject). Emails and values are personal data: sealed (AES-256-GCM) at rest like rejections; the action
 * stays plain for paging and counting.
 */
import type { PlanAction, PlanLine } from '../delivery/plan';
import type { Sealer } from '../secrets/sealer';
import type { Db } from './db';

export interface PlanRow extends PlanLine {
  /** Position in the activation's plan (1-based, increasing). */
  seq: number;
}

export interface PlanStore {
  /** Idempotent per (activation, line): a retried page adds no duplicates. */
  add(activationId: string, lines: PlanLine[]): Promise<void>;
  /** Lines with seq > afterSeq, in seq order. */
  page(activationId: string, afterSeq: number, limit: number): Promise<PlanRow[]>;
}

export function planLinesDdl(dialect: 'pg' | 'sqlite'): string[] {
  const serial = dialect === 'pg' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  return [
    `CREATE TABLE IF NOT EXISTS plan_lines (
      seq ${serial},
      activation_id TEXT NOT NULL,
      line INTEGER NOT NULL,
      action TEXT NOT NULL,
      sealed_detail TEXT NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (activation_id, line)
    )`,
    `CREATE INDEX IF NOT EXISTS plan_lines_by_activation ON plan_lines (activation_id, seq)`,
  ];
}

type SealedDetail = Omit<PlanLine, 'line' | 'action'>;

interface Row {
  seq: number | string;
  line: number | string;
  action: string;
  sealed_detail: string;
}

export class SqlPlanStore implements PlanStore {
  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
  ) {}

  async add(activationId: string, lines: PlanLine[]): Promise<void> {
    const now = new Date().toISOString();
    // One statement per 100 lines (a batch's worth): dry runs of 100,000 members stay cheap on PostgreSQL.
    for (let i = 0; i < lines.length; i += 100) {
      const part = lines.slice(i, i + 100);
      const params: unknown[] = [];
      const values = part.map(({ line, action, ...detail }) => {
        params.push(activationId, line, action, this.sealer.seal(JSON.stringify(detail), `plan:${activationId}`), now);
        const n = params.length;
        return `($${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
      });
      await this.db.query(
        `INSERT INTO plan_lines (activation_id, line, action, sealed_detail, created_at) VALUES ${values.join(', ')}
         ON CONFLICT (activation_id, line) DO NOTHING`,
        params,
      );
    }
  }

  async page(activationId: string, afterSeq: number, limit: number): Promise<PlanRow[]> {
    const rows = await this.db.query<Row>(
      'SELECT seq, line, action, sealed_detail FROM plan_lines WHERE activation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [activationId, afterSeq, limit],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      line: Number(r.line),
      action: r.action as PlanAction,
      ...(JSON.parse(this.sealer.open(r.sealed_detail, `plan:${activationId}`)) as SealedDetail),
    }));
  }
}
