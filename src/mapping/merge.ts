/**
 * Merges contacts that share an email before they are sent: HubSpot rejects a whole batch that
 * names the same id twice (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide). The later record wins property by property; a property
 * only the earlier record has is kept (a missing attribute never clears a value).
 */
import type { PreparedContact } from './types';

export interface MergeResult {
  /** One contact per email, in order of first appearance. */
  merged: PreparedContact[];
  /** The earlier duplicates folded into a later record (reported as skipped `DUPLICATE_MERGED`). */
  mergedAway: PreparedContact[];
}

export const DUPLICATE_MERGED = 'DUPLICATE_MERGED';

export function mergeByEmail(contacts: PreparedContact[]): MergeResult {
  const byEmail = new Map<string, number>();
  const merged: PreparedContact[] = [];
  /** The last original record merged into each slot (what gets reported when a later one wins). */
  const lastOriginal: PreparedContact[] = [];
  const mergedAway: PreparedContact[] = [];
  for (const c of contacts) {
    const at = byEmail.get(c.email);
    if (at === undefined) {
      byEmail.set(c.email, merged.length);
      merged.push(c);
      lastOriginal.push(c);
      continue;
    }
    const earlier = merged[at];
    mergedAway.push(lastOriginal[at]);
    lastOriginal[at] = c;
    // The merged contact takes the later record's line and status: it is the one the upsert carries.
    merged[at] = {
      ...c,
      properties: { ...earlier.properties, ...c.properties },
      ...(earlier.statuses || c.statuses ? { statuses: { ...earlier.statuses, ...c.statuses } } : {}),
      ...((c.timestamp ?? earlier.timestamp) ? { timestamp: c.timestamp ?? earlier.timestamp } : {}),
    };
  }
  return { merged, mergedAway };
}
