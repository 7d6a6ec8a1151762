/** What was asked for each activation run (its input), so a run can be re-run and listed by destination. */
import type { SourceRef } from '../members/types';
import type { Db } from './db';

export interface ActivationRecord {
  id: string;
  destinationId: string;
  audience: { id: string; name: string };
  source: SourceRef;
  rerunOf?: string;
  rerunMode?: 'all' | 'rejected';
  createdAt: string;
}

interface Row {
  id: string;
  destination_id: string;
  audience_id: string;
  audience_name: string;
  source_json: string;
  rerun_of: string | null;
  rerun_mode: string | null;
  created_at: string;
}

function fromRow(r: Row): ActivationRecord {
  return {
    id: r.id,
    destinationId: r.destination_id,
    audience: { id: r.audience_id, name: r.audience_name },
    source: JSON.parse(r.source_json) as SourceRef,
    ...(r.rerun_of ? { rerunOf: r.rerun_of, rerunMode: r.rerun_mode as 'all' | 'rejected' } : {}),
    createdAt: r.created_at,
  };
}

export class ActivationStore {
  constructor(private readonly db: Db) {}

  async insert(a: ActivationRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO activations (id, destination_id, audience_id, audience_name, source_json, rerun_of, rerun_mode, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        a.id,
        a.destinationId,
        a.audience.id,
        a.audience.name,
        JSON.stringify(a.source),
        a.rerunOf ?? null,
        a.rerunMode ?? null,
        a.createdAt,
      ],
    );
  }

  async get(id: string): Promise<ActivationRecord | undefined> {
    const rows = await this.db.query<Row>('SELECT * FROM activations WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }
}
