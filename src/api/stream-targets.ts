/**
 * The destination a streamed update is reduced with (id, name, mapping), cached per API process for
 * `ttlMs` (1 s). At 1,000 single-profile requests a second, reading the destination row from the store
 * on every request was ~5 % of the API process's CPU. Concurrent requests of one destination share one
 * read; unknown destinations are never cached (a destination created a moment ago is found at once).
 *
 * Staleness: a mapping changed through this API process applies to the next request (the PATCH route
 * forgets the entry); changed through another API process, within `ttlMs` (decision 28).
 */
import type { Mapping } from '../mapping/types';
import type { DestinationRecord } from '../store/destinations';

export interface StreamTargetRecord {
  destinationId: string;
  destinationName: string;
  mapping: Mapping;
}

interface Entry {
  at: number;
  value: Promise<StreamTargetRecord | undefined>;
}

export class StreamTargets {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly destinations: { get(id: string): Promise<DestinationRecord | undefined> },
    private readonly ttlMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): Promise<StreamTargetRecord | undefined> {
    const t = this.now();
    const hit = this.entries.get(id);
    if (hit && t - hit.at < this.ttlMs) return hit.value;
    const value = this.destinations
      .get(id)
      .then((d) => (d ? { destinationId: d.id, destinationName: d.name, mapping: d.mapping } : undefined));
    const entry: Entry = { at: t, value };
    this.entries.set(id, entry);
    // Only found destinations stay (and never a failed read): an unknown id is read again next time.
    value.then(
      (v) => {
        if (!v && this.entries.get(id) === entry) this.entries.delete(id);
      },
      () => {
        if (this.entries.get(id) === entry) this.entries.delete(id);
      },
    );
    // Bounded: stale entries go when the map grows (one per destination streamed to in the last second).
    if (this.entries.size > 10_000) for (const [k, e] of this.entries) if (t - e.at >= this.ttlMs) this.entries.delete(k);
    return value;
  }

  /** The destination changed (PATCH through this process): the next request reads it again. */
  forget(id: string): void {
    this.entries.delete(id);
  }
}
