/**
 * Sends one batch of buffered updates (≤ 100 distinct emails) to HubSpot and accounts for every update:
 *   ignored  — names no audience activated on the destination;
 *   rejected — fails validation (email, status, mapped values) or HubSpot refuses it (stored, sealed);
 *   stale    — a newer update of the same email was already written (ordering memory);
 *   unchanged — HubSpot already holds exactly what it would write (the confirmed-state memory that
 *              batch runs share, docs/dataflows.md): not sent;
 *   sent     — upserted (and remembered as confirmed).
 * Only statuses of activated audiences are written; the others are counted (`ignoredStatuses`).
 * Idempotent: a retried flush re-checks the memory (an update equal to the last written time is sent
 * again, harmless), and rejections are stored once per update key.
 */
import { resolveDesired, type DesiredState } from '../dataflow/change';
import { sendBatch, type SendOptions } from '../delivery/send-batch';
import type { HubSpotClient } from '../hubspot/client';
import type { HubSpotProperty } from '../hubspot/types';
import { normalizeStatus, prepareContact } from '../mapping/prepare';
import type { Mapping, PreparedContact, RejectionReason } from '../mapping/types';
import type { ContactMemory } from '../store/contact-memory';
import type { RejectionStore } from '../store/types';
import type { UpdateOrderMemory } from './memory';
import { toXdmProfile } from './reduce';
import { emptyFlushCounts, streamRejectionsId, type FlushCounts, type PendingUpdate } from './types';
import { toWire } from './wire';

export const NO_ACTIVATED_AUDIENCE = 'NO_ACTIVATED_AUDIENCE';

export interface FlushContext {
  destinationId: string;
  keyPrefix: string;
  mapping: Mapping;
  properties: Map<string, HubSpotProperty>;
  /** Activated audiences: audience id → status property name. */
  audiences: Map<string, string>;
  client: HubSpotClient;
  rejections: RejectionStore;
  memory: UpdateOrderMemory;
  /** The confirmed-state memory of the destination, shared with batch runs (absent: CONTACT_MEMORY=off). */
  changes?: { store: Pick<ContactMemory, 'resolve' | 'confirm'> };
  send?: SendOptions;
}

interface Rejection {
  update: PendingUpdate;
  reason: RejectionReason;
}

/** Activated audiences named by the update, in a stable order. */
export function activatedAudiencesOf(u: PendingUpdate, audiences: Map<string, string>): string[] {
  return Object.keys(u.statuses)
    .filter((id) => audiences.has(id))
    .sort();
}

function prepare(u: PendingUpdate, activated: string[], ctx: FlushContext): { contact: PreparedContact } | { reason: RejectionReason } {
  const [first, ...rest] = activated as [string, ...string[]];
  const outcome = prepareContact(
    {
      kind: 'member',
      line: u.seq,
      email: u.email,
      status: u.statuses[first] ?? undefined,
      timestamp: new Date(u.updatedAt).toISOString(),
      values: u.values,
    },
    { mapping: ctx.mapping, properties: ctx.properties, audiencePropertyName: ctx.audiences.get(first)! },
  );
  if (outcome.kind === 'rejected') return { reason: outcome.reason };
  if (outcome.kind === 'skipped') return { reason: { code: outcome.reason.code, message: outcome.reason.message, origin: 'validation' } };
  for (const id of rest) {
    const status = normalizeStatus(u.statuses[id] ?? undefined);
    if (!status)
      return {
        reason: {
          code: 'INVALID_STATUS',
          message: 'The audience status must be one of realized, existing, exited',
          field: 'status',
          origin: 'validation',
        },
      };
    outcome.contact.properties[ctx.audiences.get(id)!] = status;
  }
  return { contact: outcome.contact };
}

export async function storeStreamRejections(
  ctx: Pick<FlushContext, 'destinationId' | 'keyPrefix' | 'rejections'>,
  rejections: Rejection[],
): Promise<void> {
  if (rejections.length === 0) return;
  await ctx.rejections.add(
    streamRejectionsId(ctx.destinationId),
    rejections.map(({ update, reason }) => ({
      // By reference the number is the ingest log's (its own key space, so never a by-value update's).
      key: update.refs ? `${ctx.keyPrefix}:log${update.seq}` : `${ctx.keyPrefix}:${update.seq}`,
      line: update.seq,
      email: update.email,
      reason,
      record: { line: update.seq, format: 'xdm-ndjson' as const, raw: JSON.stringify(toXdmProfile(toWire(update))) },
    })),
  );
}

export async function flushUpdates(updates: PendingUpdate[], ctx: FlushContext): Promise<FlushCounts> {
  const counts = emptyFlushCounts();
  const rejections: Rejection[] = [];
  const ready: Array<{ update: PendingUpdate; contact: PreparedContact }> = [];
  for (const u of updates) {
    const activated = activatedAudiencesOf(u, ctx.audiences);
    counts.ignoredStatuses += Object.keys(u.statuses).length - activated.length;
    if (activated.length === 0) {
      counts.ignored++;
      counts.ignoredByReason[NO_ACTIVATED_AUDIENCE] = (counts.ignoredByReason[NO_ACTIVATED_AUDIENCE] ?? 0) + 1;
      continue;
    }
    const prepared = prepare(u, activated, ctx);
    const key = ctx.mapping.matchKey;
    if ('reason' in prepared) rejections.push({ update: u, reason: prepared.reason });
    else if (key && key !== 'email' && !prepared.contact.properties[key])
      // Matched by a unique property (docs/safe-runs.md): without its value the contact cannot be found.
      rejections.push({
        update: u,
        reason: { code: 'MATCH_KEY_MISSING', message: `No value for the match key '${key}'`, field: key, origin: 'validation' },
      });
    else ready.push({ update: u, contact: prepared.contact });
  }

  // Ordering across flushes: drop what is older than the time already written for the email.
  const written = await ctx.memory.lastWritten(
    ctx.destinationId,
    ready.map((r) => r.contact.email),
  );
  const toSend = ready.filter((r) => {
    const last = written.get(r.contact.email);
    if (last !== undefined && r.update.updatedAt < last) {
      counts.stale++;
      return false;
    }
    return true;
  });

  // Only what differs from what HubSpot last confirmed is sent (the memory batch runs use too).
  const audienceProperties = [...ctx.audiences].map(([id, propertyName]) => ({ id, propertyName }));
  const desired = new Map<PreparedContact, DesiredState & { keyHash: string }>();
  const changes = ctx.changes;
  const unchanged = new Set<PreparedContact>();
  if (changes) {
    const states = await resolveDesired(
      changes.store,
      ctx.destinationId,
      toSend.map((r) => r.contact),
      audienceProperties,
      { lookup: true },
    );
    toSend.forEach((r, i) => {
      desired.set(r.contact, states[i].desired);
      if (states[i].change === 'unchanged') unchanged.add(r.contact);
    });
  }
  // An unchanged update still counts as written at its time: an older update arriving later is stale.
  const applied: Array<{ email: string; t: number }> = [];
  const changed = toSend.filter((r) => {
    if (!unchanged.has(r.contact)) return true;
    counts.unchanged++;
    applied.push({ email: r.contact.email, t: r.update.updatedAt });
    return false;
  });

  if (changed.length > 0) {
    const byLine = new Map(changed.map((r) => [r.update.seq, r.update]));
    const matchKey = ctx.mapping.matchKey;
    const outcome = await sendBatch(
      ctx.client,
      changed.map((r) => r.contact),
      matchKey && matchKey !== 'email' ? { ...ctx.send, idProperty: matchKey } : ctx.send,
    );
    for (const { contact, isNew } of outcome.upserted) {
      counts.sent++;
      if (isNew) counts.created++;
      else counts.updated++;
      applied.push({ email: contact.email, t: byLine.get(contact.line)!.updatedAt });
    }
    for (const r of outcome.rejected) rejections.push({ update: byLine.get(r.contact.line)!, reason: r.reason });
    // Remembered only after HubSpot's answer, and only what it accepted (invariant 8).
    if (changes && outcome.upserted.length)
      await changes.store.confirm(
        ctx.destinationId,
        outcome.upserted.map((u) => {
          const want = desired.get(u.contact)!;
          return { keyHash: want.keyHash, fingerprint: want.fingerprint, ...(u.id ? { recordId: u.id } : {}), statuses: want.statuses };
        }),
      );
  }
  if (applied.length) await ctx.memory.record(ctx.destinationId, applied);

  for (const r of rejections) {
    counts.rejected++;
    counts.rejectedByReason[r.reason.code] = (counts.rejectedByReason[r.reason.code] ?? 0) + 1;
  }
  await storeStreamRejections(ctx, rejections);
  return counts;
}
