/**
 * Destinations (a HubSpot account connection + field mapping) and the audiences activated on them.
 * The HubSpot token is only ever stored sealed; `DestinationView` (what the API shows) has no token.
 */
import { AppError } from '../errors';
import type { SupportedApiVersion } from '../hubspot-versions';
import type { Mapping } from '../mapping/types';
import type { Db } from './db';

export interface AlertSubscription {
  id: string;
  url: string;
  events: string[];
  /** Sealed HMAC secret used to sign deliveries. */
  sealedSecret: string;
}

export interface DestinationRecord {
  id: string;
  name: string;
  description?: string;
  baseUrl: string;
  sealedToken: string;
  portalId: number;
  timeZone: string;
  mapping: Mapping;
  /** HubSpot API version of this destination's calls; absent = the deployment's HUBSPOT_API_VERSION. */
  apiVersion?: SupportedApiVersion;
  alerts: AlertSubscription[];
  createdAt: string;
  updatedAt: string;
}

export type DestinationView = Omit<DestinationRecord, 'sealedToken' | 'alerts'> & {
  alerts: Array<Omit<AlertSubscription, 'sealedSecret'>>;
};

export interface ActivatedAudience {
  destinationId: string;
  audienceId: string;
  audienceName: string;
  propertyName: string;
  activatedAt: string;
}

/** The HubSpot list kept for a list-encoded audience (created by the service, so it is ours). */
export interface AudienceList {
  destinationId: string;
  audienceId: string;
  listId: string;
  listName: string;
  createdAt: string;
}

interface Row {
  id: string;
  name: string;
  description: string | null;
  base_url: string;
  sealed_token: string;
  portal_id: number | string;
  time_zone: string;
  mapping_json: string;
  api_version?: string | null;
  alerts_json: string;
  created_at: string;
  updated_at: string;
}

function fromRow(r: Row): DestinationRecord {
  return {
    id: r.id,
    name: r.name,
    ...(r.description ? { description: r.description } : {}),
    baseUrl: r.base_url,
    sealedToken: r.sealed_token,
    portalId: Number(r.portal_id),
    timeZone: r.time_zone,
    mapping: JSON.parse(r.mapping_json) as Mapping,
    ...(r.api_version ? { apiVersion: r.api_version as SupportedApiVersion } : {}),
    alerts: JSON.parse(r.alerts_json) as AlertSubscription[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toView(d: DestinationRecord): DestinationView {
  const { sealedToken: _token, alerts, ...rest } = d;
  return { ...rest, alerts: alerts.map(({ sealedSecret: _s, ...a }) => a) };
}

/** What the activities need of destinations: read them, save checked ones, remember activated audiences. */
export interface Destinations {
  get(id: string): Promise<DestinationRecord | undefined>;
  insert(d: DestinationRecord): Promise<void>;
  update(d: DestinationRecord): Promise<void>;
  audiences(destinationId: string): Promise<ActivatedAudience[]>;
  recordAudience(a: ActivatedAudience): Promise<void>;
  /** The list kept for a list-encoded audience, if one was created. */
  audienceList(destinationId: string, audienceId: string): Promise<AudienceList | undefined>;
  recordAudienceList(l: AudienceList): Promise<void>;
}

export class DestinationStore implements Destinations {
  constructor(private readonly db: Db) {}

  async insert(d: DestinationRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO destinations (id, name, description, base_url, sealed_token, portal_id, time_zone, mapping_json, alerts_json, created_at, updated_at, api_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        d.id,
        d.name,
        d.description ?? null,
        d.baseUrl,
        d.sealedToken,
        d.portalId,
        d.timeZone,
        JSON.stringify(d.mapping),
        JSON.stringify(d.alerts),
        d.createdAt,
        d.updatedAt,
        d.apiVersion ?? null,
      ],
    );
  }

  /**
   * Updates config and token. Alert subscriptions change only through `changeAlerts` (so no update can drop one).
   * The portal never changes: a destination belongs to the HubSpot portal it was created on, so an update
   * for another portal is refused here too (whatever checked it before).
   */
  async update(d: DestinationRecord): Promise<void> {
    const written = await this.db.query<{ id: string }>(
      `UPDATE destinations SET name = $2, description = $3, base_url = $4, sealed_token = $5, time_zone = $7,
         mapping_json = $8, updated_at = $9, api_version = $10 WHERE id = $1 AND portal_id = $6 RETURNING id`,
      [
        d.id,
        d.name,
        d.description ?? null,
        d.baseUrl,
        d.sealedToken,
        d.portalId,
        d.timeZone,
        JSON.stringify(d.mapping),
        d.updatedAt,
        d.apiVersion ?? null,
      ],
    );
    if (written.length === 0) {
      const current = await this.get(d.id);
      if (!current) throw new AppError('NOT_FOUND', `Destination ${d.id} does not exist.`);
      throw new AppError(
        'CONFLICT',
        `Destination ${d.id} is bound to HubSpot portal ${current.portalId}; it cannot move to portal ${d.portalId}. Create a new destination for portal ${d.portalId}.`,
      );
    }
  }

  /**
   * Read-modify-write of a destination's alert subscriptions, safe across API processes: the write only
   * lands if the list is still what was read (compare-and-set), else it is read and applied again.
   * Returns the new list and `fn`'s result, or undefined when the destination does not exist.
   */
  async changeAlerts<T>(
    id: string,
    fn: (alerts: AlertSubscription[]) => { alerts: AlertSubscription[]; result: T },
  ): Promise<{ alerts: AlertSubscription[]; result: T } | undefined> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const rows = await this.db.query<{ alerts_json: string }>('SELECT alerts_json FROM destinations WHERE id = $1', [id]);
      if (!rows[0]) return undefined;
      const before = rows[0].alerts_json;
      const out = fn(JSON.parse(before) as AlertSubscription[]);
      const written = await this.db.query<{ id: string }>(
        'UPDATE destinations SET alerts_json = $2 WHERE id = $1 AND alerts_json = $3 RETURNING id',
        [id, JSON.stringify(out.alerts), before],
      );
      if (written.length) return out;
    }
    throw new Error(`Alert subscriptions of destination ${id} kept changing; try again.`);
  }

  async get(id: string): Promise<DestinationRecord | undefined> {
    const rows = await this.db.query<Row>('SELECT * FROM destinations WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(): Promise<DestinationRecord[]> {
    const rows = await this.db.query<Row>('SELECT * FROM destinations ORDER BY created_at');
    return rows.map(fromRow);
  }

  async recordAudience(a: ActivatedAudience): Promise<void> {
    await this.db.query(
      `INSERT INTO destination_audiences (destination_id, audience_id, audience_name, property_name, activated_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (destination_id, audience_id) DO UPDATE SET audience_name = excluded.audience_name, property_name = excluded.property_name`,
      [a.destinationId, a.audienceId, a.audienceName, a.propertyName, a.activatedAt],
    );
  }

  async audienceList(destinationId: string, audienceId: string): Promise<AudienceList | undefined> {
    const rows = await this.db.query<{ list_id: string; list_name: string; created_at: string }>(
      'SELECT list_id, list_name, created_at FROM destination_audience_lists WHERE destination_id = $1 AND audience_id = $2',
      [destinationId, audienceId],
    );
    const r = rows[0];
    return r ? { destinationId, audienceId, listId: r.list_id, listName: r.list_name, createdAt: r.created_at } : undefined;
  }

  async recordAudienceList(l: AudienceList): Promise<void> {
    await this.db.query(
      `INSERT INTO destination_audience_lists (destination_id, audience_id, list_id, list_name, created_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (destination_id, audience_id) DO UPDATE SET list_id = excluded.list_id, list_name = excluded.list_name`,
      [l.destinationId, l.audienceId, l.listId, l.listName, l.createdAt],
    );
  }

  async audiences(destinationId: string): Promise<ActivatedAudience[]> {
    const rows = await this.db.query<{
      destination_id: string;
      audience_id: string;
      audience_name: string;
      property_name: string;
      activated_at: string;
    }>('SELECT * FROM destination_audiences WHERE destination_id = $1 ORDER BY activated_at', [destinationId]);
    return rows.map((r) => ({
      destinationId: r.destination_id,
      audienceId: r.audience_id,
      audienceName: r.audience_name,
      propertyName: r.property_name,
      activatedAt: r.activated_at,
    }));
  }
}
