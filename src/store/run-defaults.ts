/**
 * Per-destination defaults of activation options (today the rejection guard's `maxRejectedPercent`):
 * set with the destination (POST/PATCH `runDefaults`), applied by the API to runs that do not say.
 * Its own table, so the destinations table and its writers stay as they are.
 */
import type { Db } from './db';

export interface RunDefaults {
  maxRejectedPercent?: number;
}

export const runDefaultsDdl = [
  `CREATE TABLE IF NOT EXISTS destination_run_defaults (
    destination_id TEXT PRIMARY KEY,
    defaults_json TEXT NOT NULL
  )`,
];

export class RunDefaultsStore {
  constructor(private readonly db: Db) {}

  async get(destinationId: string): Promise<RunDefaults | undefined> {
    const rows = await this.db.query<{ defaults_json: string }>(
      'SELECT defaults_json FROM destination_run_defaults WHERE destination_id = $1',
      [destinationId],
    );
    return rows[0] ? (JSON.parse(rows[0].defaults_json) as RunDefaults) : undefined;
  }

  /** `null` (or an empty object) clears them. */
  async set(destinationId: string, defaults: RunDefaults | null): Promise<void> {
    if (!defaults || Object.keys(defaults).length === 0) {
      await this.db.query('DELETE FROM destination_run_defaults WHERE destination_id = $1', [destinationId]);
      return;
    }
    await this.db.query(
      `INSERT INTO destination_run_defaults (destination_id, defaults_json) VALUES ($1, $2)
       ON CONFLICT (destination_id) DO UPDATE SET defaults_json = excluded.defaults_json`,
      [destinationId, JSON.stringify(defaults)],
    );
  }
}
