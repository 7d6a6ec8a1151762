/**
 * Sync modes other than upsert (docs/safe-runs.md), one batch (≤ 100 contacts) at a time:
 *
 * - `update` never creates: one batch read by the match key (which of them HubSpot has, with their record
 *   ids), then one batch update by record id of those it has. The others are skipped `NOT_IN_HUBSPOT`.
 *   Batch update by record id cannot create anything, even if a contact is deleted between the two calls
 *   (HubSpot answers 207 naming the missing id). Keying the batch update by `idProperty=email` directly
 *   would save the read, but HubSpot refuses email there ("Unable to perform update/upsert by non-unique
 *   0-1 property", HubSpot/hubspot-api-nodejs#548).
 * - `create` never changes an existing contact: one batch read by the match key, then one batch create of
 *   those HubSpot lacks. The others are skipped `ALREADY_IN_HUBSPOT`. Batch create alone would fail the
 *   whole batch with a 409 at the first existing email; a contact created between the two calls comes
 *   back as a per-record CONFLICT (207) or a 409, after which the batch is read again and re-sent once.
 *
 * Two calls per batch of 100, whatever the mix. A whole-batch 400 is isolated by bisection.
 */
import { validationDetail, type ContactRecord, type HubSpotClient } from '../hubspot/client';
import { HubSpotApiError } from '../hubspot/errors';
import type { PreparedContact, RejectionReason } from '../mapping/types';
import { DailyLimitHitError, type BatchOutcome } from './send-batch';

/** How a run writes: create or update (default), update only, create only. */
export type SyncMode = 'upsert' | 'update' | 'create';

export const NOT_IN_HUBSPOT = 'NOT_IN_HUBSPOT';
export const ALREADY_IN_HUBSPOT = 'ALREADY_IN_HUBSPOT';

export interface ModeOutcome extends BatchOutcome {
  skipped: Array<{ contact: PreparedContact; reason: { code: string; message: string } }>;
}

/** The value a contact is matched by: its email, or the mapped value of a unique property. */
export function matchValueOf(c: PreparedContact, matchKey: string): string {
  return matchKey === 'email' ? c.email : (c.properties[matchKey] ?? '');
}

/** HubSpot's DAILY 429 becomes DailyLimitHitError (the page waits for the reset), as for upserts. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HubSpotApiError && err.kind === 'rate_limit' && err.info.policy === 'DAILY')
      throw new DailyLimitHitError(err.message);
    throw err;
  }
}

/**
 * Which of `contacts` HubSpot has, by their match value (one batch read). A read by email matches primary
 * and additional addresses, so results are matched back through both.
 */
export async function readExisting(
  client: HubSpotClient,
  contacts: PreparedContact[],
  matchKey: string,
  properties: string[] = [],
): Promise<Map<PreparedContact, ContactRecord>> {
  const found = new Map<PreparedContact, ContactRecord>();
  if (contacts.length === 0) return found;
  const names = matchKey === 'email' ? ['email', 'hs_additional_emails'] : [matchKey];
  const records = await call(() =>
    client.batchReadContacts(
      contacts.map((c) => matchValueOf(c, matchKey)),
      { idProperty: matchKey, properties: [...new Set([...names, ...properties])] },
    ),
  );
  const byValue = new Map<string, ContactRecord>();
  for (const r of records) {
    const values =
      matchKey === 'email'
        ? [r.properties.email ?? '', ...(r.properties.hs_additional_emails ?? '').split(';')].map((v) => v.trim().toLowerCase())
        : [r.properties[matchKey] ?? ''];
    for (const v of values) if (v) byValue.set(v, r);
  }
  for (const c of contacts) {
    const v = matchValueOf(c, matchKey);
    const r = byValue.get(matchKey === 'email' ? v.toLowerCase() : v);
    if (r) found.set(c, r);
  }
  return found;
}

function hubspotReason(code: string | undefined, message: string): RejectionReason {
  return { code: code ?? 'VALIDATION_ERROR', message, origin: 'hubspot' };
}

/** Runs `send` over `items`; a whole-batch 400 is split in halves until the bad record stands alone. */
async function bisecting<T>(
  items: T[],
  send: (part: T[]) => Promise<void>,
  reject: (item: T, reason: RejectionReason) => void,
): Promise<void> {
  if (items.length === 0) return;
  try {
    await send(items);
  } catch (err) {
    if (!(err instanceof HubSpotApiError && err.kind === 'validation')) throw err;
    if (items.length === 1) {
      const { code, message } = validationDetail(err);
      reject(items[0], hubspotReason(code, message));
      return;
    }
    const mid = Math.ceil(items.length / 2);
    await bisecting(items.slice(0, mid), send, reject);
    await bisecting(items.slice(mid), send, reject);
  }
}

const notInHubSpot = { code: NOT_IN_HUBSPOT, message: 'Not in HubSpot, and the run is in update mode (it never creates contacts).' };
const alreadyInHubSpot = {
  code: ALREADY_IN_HUBSPOT,
  message: 'Already in HubSpot, and the run is in create mode (it never changes existing contacts).',
};

export async function sendUpdates(client: HubSpotClient, contacts: PreparedContact[], matchKey: string): Promise<ModeOutcome> {
  const out: ModeOutcome = { upserted: [], rejected: [], skipped: [] };
  const existing = await readExisting(client, contacts, matchKey);
  for (const c of contacts) if (!existing.has(c)) out.skipped.push({ contact: c, reason: notInHubSpot });
  const targets = contacts.filter((c) => existing.has(c)).map((c) => ({ contact: c, id: existing.get(c)!.id }));
  await bisecting(
    targets,
    async (part) => {
      const { missingIds } = await call(() =>
        client.batchUpdateContactsById(part.map((t) => ({ id: t.id, properties: t.contact.properties }))),
      );
      const missing = new Set(missingIds);
      for (const t of part) {
        if (missing.has(t.id)) out.skipped.push({ contact: t.contact, reason: notInHubSpot });
        else out.upserted.push({ contact: t.contact, isNew: false, id: t.id });
      }
    },
    (t, reason) => out.rejected.push({ contact: t.contact, reason }),
  );
  return out;
}

export async function sendCreates(client: HubSpotClient, contacts: PreparedContact[], matchKey: string): Promise<ModeOutcome> {
  const out: ModeOutcome = { upserted: [], rejected: [], skipped: [] };
  let pending = contacts;
  // A 409 means someone created one of them since the read: read again and send the rest, at most twice more.
  for (let round = 0; pending.length && round < 3; round++) {
    const existing = await readExisting(client, pending, matchKey);
    for (const c of pending) if (existing.has(c)) out.skipped.push({ contact: c, reason: alreadyInHubSpot });
    const missing = pending.filter((c) => !existing.has(c));
    pending = [];
    await bisecting(
      missing,
      async (part) => {
        try {
          const result = await call(() =>
            client.batchCreateContacts(part.map((c, i) => ({ properties: c.properties, traceId: String(i) }))),
          );
          const settled = new Set<number>();
          for (const e of result.errors) {
            for (const t of e.objectWriteTraceIds) {
              const i = Number(t);
              if (!Number.isInteger(i) || i < 0 || i >= part.length || settled.has(i)) continue;
              settled.add(i);
              if (e.category === 'CONFLICT') out.skipped.push({ contact: part[i], reason: alreadyInHubSpot });
              else out.rejected.push({ contact: part[i], reason: hubspotReason(e.code, e.message) });
            }
          }
          const byEmail = new Map(part.map((c, i) => [c.email, i]));
          for (const r of result.results) {
            const i = r.objectWriteTraceId !== undefined ? Number(r.objectWriteTraceId) : byEmail.get((r.email ?? '').toLowerCase());
            if (i === undefined || !Number.isInteger(i) || settled.has(i) || !part[i]) continue;
            settled.add(i);
            out.upserted.push({ contact: part[i], isNew: true, id: r.id });
          }
          // Not mentioned in the answer: find out on the next round whether it exists now.
          pending.push(...part.filter((_, i) => !settled.has(i)));
        } catch (err) {
          if (err instanceof HubSpotApiError && err.kind === 'conflict') {
            pending.push(...part);
            return;
          }
          throw err;
        }
      },
      (c, reason) => out.rejected.push({ contact: c, reason }),
    );
  }
  for (const c of pending)
    out.rejected.push({
      contact: c,
      reason: {
        code: 'HUBSPOT_UNCONFIRMED',
        message: 'HubSpot neither created this contact nor reported it existing; re-run the rejected members.',
        origin: 'hubspot',
      },
    });
  return out;
}
