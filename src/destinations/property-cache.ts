/**
 * Per-worker cache of an account's contact properties. Every page needs the target properties' types to
 * validate members; fetching them per page would spend HubSpot's rate budget on metadata.
 */
import type { HubSpotClient } from '../hubspot/client';
import type { HubSpotProperty } from '../hubspot/types';

export class PropertyCache {
  private readonly entries = new Map<string, { at: number; byName: Map<string, HubSpotProperty> }>();
  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  set(key: string, properties: HubSpotProperty[]): Map<string, HubSpotProperty> {
    const byName = new Map(properties.map((p) => [p.name, p]));
    this.entries.set(key, { at: this.clock(), byName });
    return byName;
  }

  async get(key: string, client: HubSpotClient): Promise<Map<string, HubSpotProperty>> {
    const hit = this.entries.get(key);
    if (hit && this.clock() - hit.at < this.ttlMs) return hit.byName;
    return this.set(key, await client.listContactProperties());
  }
}

/** One cache entry per destination and portal: a destination re-pointed at another portal starts cold. */
export const propertyCacheKey = (d: { id: string; portalId: number }): string => `${d.id}:${d.portalId}`;
