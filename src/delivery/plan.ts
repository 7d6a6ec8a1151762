/**
 * Dry runs (docs/safe-runs.md): what a batch of prepared contacts would do to HubSpot, from one batch read
 * of their current values by the match key — create, update (which properties, old → new) or nothing —
 * under the run's sync mode. Reads only; the caller stores the lines (sealed) and counts them.
 */
import type { HubSpotClient } from '../hubspot/client';
import type { PreparedContact } from '../mapping/types';
import type { PlanCounts } from './counts';
import { ALREADY_IN_HUBSPOT, NOT_IN_HUBSPOT, readExisting, type SyncMode } from './sync-modes';

export type PlanAction = 'create' | 'update' | 'unchanged' | 'reject' | 'skip';

export interface PropertyChange {
  property: string;
  old: string | null;
  new: string;
}

/** One member's line of the plan (personal data: stored sealed). */
export interface PlanLine {
  line: number;
  email?: string;
  action: PlanAction;
  /** HubSpot record id of an existing contact. */
  recordId?: string;
  changes?: PropertyChange[];
  /** Why it would be rejected or skipped. */
  reason?: { code: string; message: string };
}

/** Skip codes a dry run counts its would-be writes under (received = upserted + rejected + skipped holds). */
export const WOULD_CREATE = 'WOULD_CREATE';
export const WOULD_UPDATE = 'WOULD_UPDATE';
export const UNCHANGED = 'UNCHANGED';

export interface BatchPlan {
  lines: PlanLine[];
  plan: PlanCounts;
  /** Per contact, the skip code it is counted under. */
  skipped: Array<{ contact: PreparedContact; code: string }>;
}

export async function planBatch(
  client: HubSpotClient,
  contacts: PreparedContact[],
  options: { mode: SyncMode; matchKey: string; statusProperties: ReadonlySet<string> },
): Promise<BatchPlan> {
  const out: BatchPlan = {
    lines: [],
    plan: { create: 0, update: 0, unchanged: 0, exit: 0, reject: 0, listAdd: 0, listRemove: 0 },
    skipped: [],
  };
  const names = [...new Set(contacts.flatMap((c) => Object.keys(c.properties)))];
  const existing = await readExisting(client, contacts, options.matchKey, names);
  const exits = (changes: PropertyChange[]) => changes.some((ch) => options.statusProperties.has(ch.property) && ch.new === 'exited');
  for (const c of contacts) {
    const record = existing.get(c);
    if (!record) {
      if (options.mode === 'update') {
        const reason = { code: NOT_IN_HUBSPOT, message: 'Not in HubSpot; an update run would skip it.' };
        out.lines.push({ line: c.line, email: c.email, action: 'skip', reason });
        out.skipped.push({ contact: c, code: NOT_IN_HUBSPOT });
        continue;
      }
      const changes = Object.entries(c.properties).map(([property, value]) => ({ property, old: null, new: value }));
      out.lines.push({ line: c.line, email: c.email, action: 'create', changes });
      out.plan.create++;
      if (exits(changes)) out.plan.exit++;
      out.skipped.push({ contact: c, code: WOULD_CREATE });
      continue;
    }
    if (options.mode === 'create') {
      const reason = { code: ALREADY_IN_HUBSPOT, message: 'Already in HubSpot; a create run would skip it.' };
      out.lines.push({ line: c.line, email: c.email, action: 'skip', recordId: record.id, reason });
      out.skipped.push({ contact: c, code: ALREADY_IN_HUBSPOT });
      continue;
    }
    const changes: PropertyChange[] = [];
    for (const [property, value] of Object.entries(c.properties)) {
      const old = record.properties[property] ?? null;
      if (!sameValue(property, old, value)) changes.push({ property, old, new: value });
    }
    if (changes.length === 0) {
      out.lines.push({ line: c.line, email: c.email, action: 'unchanged', recordId: record.id });
      out.plan.unchanged++;
      out.skipped.push({ contact: c, code: UNCHANGED });
      continue;
    }
    out.lines.push({ line: c.line, email: c.email, action: 'update', recordId: record.id, changes });
    out.plan.update++;
    if (exits(changes)) out.plan.exit++;
    out.skipped.push({ contact: c, code: WOULD_UPDATE });
  }
  return out;
}

/** HubSpot's stored value against the one a run would write: emails compare case-insensitively, unset equals empty. */
function sameValue(property: string, old: string | null, value: string): boolean {
  const a = old ?? '';
  return property === 'email' ? a.toLowerCase() === value.toLowerCase() : a === value;
}
