/**
 * Syncs: an activation on a schedule (a Temporal Schedule with the same id runs it; src/api/routes/syncs.ts).
 * The store keeps what the sync is — destination, audiences, source, schedule, options — so the API can
 * list and show syncs without Temporal, and rebuild the schedule's action after a change.
 */
import type { SourceRef } from '../members/types';
import type { Db } from './db';

export type SyncSchedule = { every: string } | { cron: string; timeZone?: string };

export interface SyncRecord {
  id: string;
  name: string;
  destinationId: string;
  audiences: Array<{ id: string; name: string; encoding?: 'property' | 'list' | 'both' }>;
  source: SourceRef;
  schedule: SyncSchedule;
  options?: { fullResync?: boolean; exitMissing?: boolean };
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  name: string;
  destination_id: string;
  definition_json: string;
  created_at: string;
  updated_at: string;
}

type Definition = Pick<SyncRecord, 'audiences' | 'source' | 'schedule' | 'options'>;

function fromRow(r: Row): SyncRecord {
  const def = JSON.parse(r.definition_json) as Definition;
  return {
    id: r.id,
    name: r.name,
    destinationId: r.destination_id,
    audiences: def.audiences,
    source: def.source,
    schedule: def.schedule,
    ...(def.options && Object.keys(def.options).length ? { options: def.options } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const definitionOf = (s: SyncRecord): string =>
  JSON.stringify({ audiences: s.audiences, source: s.source, schedule: s.schedule, ...(s.options ? { options: s.options } : {}) });

export class SyncStore {
  constructor(private readonly db: Db) {}

  async insert(s: SyncRecord): Promise<void> {
    await this.db.query(
      'INSERT INTO syncs (id, name, destination_id, definition_json, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [s.id, s.name, s.destinationId, definitionOf(s), s.createdAt, s.updatedAt],
    );
  }

  async update(s: SyncRecord): Promise<void> {
    await this.db.query('UPDATE syncs SET name = $2, definition_json = $3, updated_at = $4 WHERE id = $1', [
      s.id,
      s.name,
      definitionOf(s),
      s.updatedAt,
    ]);
  }

  async get(id: string): Promise<SyncRecord | undefined> {
    const rows = await this.db.query<Row>('SELECT * FROM syncs WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(filter: { destinationId?: string } = {}): Promise<SyncRecord[]> {
    const rows = filter.destinationId
      ? await this.db.query<Row>('SELECT * FROM syncs WHERE destination_id = $1 ORDER BY created_at', [filter.destinationId])
      : await this.db.query<Row>('SELECT * FROM syncs ORDER BY created_at');
    return rows.map(fromRow);
  }

  /** Syncs reading through a connection (a connection in use is not deleted). */
  async usingConnection(connectionId: string): Promise<string[]> {
    return (await this.list()).filter((s) => s.source.kind === 'sql' && s.source.connectionId === connectionId).map((s) => s.id);
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>('DELETE FROM syncs WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }
}
