/**
 * Source connections (a PostgreSQL database that SQL sources read). The URL holds a password, so it is
 * stored sealed (context `source-connection:<id>`) like destination tokens, with its redacted form beside
 * it for views; only the worker's SQL reader unseals it (`resolve`). Operators may also preconfigure
 * connections in SOURCE_CONNECTIONS (src/config.ts): those are read-only here and never stored.
 */
import { AppError } from '../errors';
import { Failure } from '../failures';
import { redactUrl } from '../members/source-connection';
import type { ResolvedConnection } from '../members/sql-source';
import type { Sealer } from '../secrets/sealer';
import type { Db } from './db';

export interface ConnectionView {
  id: string;
  name: string;
  kind: 'postgres';
  /** The URL without its password (and without query parameters other than sslmode / application_name). */
  url: string;
  /** `api`: created with POST /v1/connections; `environment`: SOURCE_CONNECTIONS (read-only through the API). */
  origin: 'api' | 'environment';
  createdAt?: string;
  updatedAt?: string;
}

export interface PreconfiguredConnection {
  id: string;
  name: string;
  url: string;
}

interface Row {
  id: string;
  name: string;
  kind: string;
  sealed_url: string;
  redacted_url: string;
  created_at: string;
  updated_at: string;
}

export const connectionContext = (id: string) => `source-connection:${id}`;

function viewOf(r: Row): ConnectionView {
  return { id: r.id, name: r.name, kind: 'postgres', url: r.redacted_url, origin: 'api', createdAt: r.created_at, updatedAt: r.updated_at };
}

export class ConnectionStore {
  private readonly preconfigured: Map<string, PreconfiguredConnection>;

  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
    preconfigured: PreconfiguredConnection[] = [],
  ) {
    this.preconfigured = new Map(preconfigured.map((c) => [c.id, c]));
  }

  isPreconfigured(id: string): boolean {
    return this.preconfigured.has(id);
  }

  private envView(c: PreconfiguredConnection): ConnectionView {
    return { id: c.id, name: c.name, kind: 'postgres', url: redactUrl(c.url), origin: 'environment' };
  }

  async list(): Promise<ConnectionView[]> {
    const rows = await this.db.query<Row>('SELECT * FROM source_connections ORDER BY created_at');
    return [...[...this.preconfigured.values()].map((c) => this.envView(c)), ...rows.map(viewOf)];
  }

  async get(id: string): Promise<ConnectionView | undefined> {
    const env = this.preconfigured.get(id);
    if (env) return this.envView(env);
    const rows = await this.db.query<Row>('SELECT * FROM source_connections WHERE id = $1', [id]);
    return rows[0] ? viewOf(rows[0]) : undefined;
  }

  async insert(c: { id: string; name: string; url: string; createdAt: string }): Promise<ConnectionView> {
    await this.db.query(
      `INSERT INTO source_connections (id, name, kind, sealed_url, redacted_url, created_at, updated_at) VALUES ($1, $2, 'postgres', $3, $4, $5, $5)`,
      [c.id, c.name, this.sealer.seal(c.url, connectionContext(c.id)), redactUrl(c.url), c.createdAt],
    );
    return (await this.get(c.id))!;
  }

  /** Changes name and/or URL (sealed again); undefined when the connection does not exist. */
  async update(id: string, change: { name?: string; url?: string; updatedAt: string }): Promise<ConnectionView | undefined> {
    const rows = await this.db.query<Row>('SELECT * FROM source_connections WHERE id = $1', [id]);
    const cur = rows[0];
    if (!cur) return undefined;
    await this.db.query('UPDATE source_connections SET name = $2, sealed_url = $3, redacted_url = $4, updated_at = $5 WHERE id = $1', [
      id,
      change.name ?? cur.name,
      change.url ? this.sealer.seal(change.url, connectionContext(id)) : cur.sealed_url,
      change.url ? redactUrl(change.url) : cur.redacted_url,
      change.updatedAt,
    ]);
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>('DELETE FROM source_connections WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  /** Workers only: the plaintext URL to connect with. */
  async resolve(id: string): Promise<ResolvedConnection> {
    const env = this.preconfigured.get(id);
    if (env) return { url: env.url, version: 'environment', label: `connection ${id} (${redactUrl(env.url)})` };
    const rows = await this.db.query<Row>('SELECT * FROM source_connections WHERE id = $1', [id]);
    const r = rows[0];
    if (!r)
      throw new AppError(
        Failure.SourceConnectionNotFound,
        `Source connection ${id} does not exist (deleted?). Create it again (POST /v1/connections) or point the sync at another connection.`,
      );
    return {
      url: this.sealer.open(r.sealed_url, connectionContext(id)),
      version: r.updated_at,
      label: `connection ${id} (${r.redacted_url})`,
    };
  }
}
