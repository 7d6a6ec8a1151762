/**
 * Sends one batch (≤ 100 contacts) to HubSpot's batch upsert and accounts for every contact in it:
 * upserted (created or updated) or rejected with HubSpot's code and message. One bad record never takes
 * the others down: every input carries an `objectWriteTraceId` so HubSpot can answer 207 with per-record
 * errors, and a whole-batch 400 is resolved from what it names: HubSpot's "Property values were not valid"
 * lists the bad property values, so the inputs holding them are rejected (or, when a value is shared by
 * several inputs, sent alone) and the rest re-sent; only an answer that names nothing any input holds is
 * isolated by bisection down to the offending record.
 *
 * Retries, by layer: the HubSpot client retries transient faults and unexpected 429s a few times
 * (src/hubspot/retry.ts; `SendOptions` tune it); this layer retries nothing that failed, it only splits
 * a whole-batch 400 to find the bad record and re-sends once what HubSpot left unconfirmed; what still
 * fails is thrown for Temporal to retry the page from its checkpoint.
 */
import { namedProblems, validationDetail, type BatchUpsertResult, type HubSpotClient, type NamedProblem } from '../hubspot/client';
import { HubSpotApiError } from '../hubspot/errors';
import type { RetryPolicy } from '../hubspot/retry';
import type { PreparedContact, RejectionReason } from '../mapping/types';

export interface BatchOutcome {
  /** `id`: HubSpot's record id (hs_object_id), remembered for writes by id. */
  upserted: Array<{ contact: PreparedContact; isNew: boolean; id?: string }>;
  rejected: Array<{ contact: PreparedContact; reason: RejectionReason }>;
}

export interface SendOptions {
  /** Attempts per call for transient errors and unexpected 429s (≥ 1). */
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Send `objectWriteTraceId`s (default true). HubSpot documents per-record 207s for batch create only;
   * without them a bad record fails its whole batch with 400 and bisection isolates it.
   */
  traceIds?: boolean;
  /** A unique contact property to match by instead of email (its value is the contact's mapped one). */
  idProperty?: string;
}

/** HubSpot's 429 DAILY, surfaced so the caller can wait for the reset instead of burning retries. */
export class DailyLimitHitError extends Error {
  override name = 'DailyLimitHitError';
}

/** The client's retry policy for this batch, from the caller's options (unset fields keep the client's batch defaults). */
function retryOf(options: SendOptions): Partial<RetryPolicy> {
  const { maxAttempts, baseBackoffMs, maxBackoffMs, sleep, signal } = options;
  const set = { attempts: maxAttempts, baseBackoffMs, maxBackoffMs, sleep, signal };
  return Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
}

interface ResolvedOptions {
  idProperty?: string;
  traceIds: boolean;
  retry: Partial<RetryPolicy>;
}

/** Batch upsert; HubSpot's DAILY 429 becomes DailyLimitHitError (the caller waits for the reset). */
async function upsert(client: HubSpotClient, contacts: PreparedContact[], o: ResolvedOptions): Promise<BatchUpsertResult> {
  try {
    return await client.batchUpsertContacts(
      contacts.map((c, i) => ({ email: c.email, properties: c.properties, ...(o.traceIds ? { traceId: String(i) } : {}) })),
      { retry: o.retry, ...(o.idProperty ? { idProperty: o.idProperty } : {}) },
    );
  } catch (err) {
    if (err instanceof HubSpotApiError && err.kind === 'rate_limit' && err.info.policy === 'DAILY')
      throw new DailyLimitHitError(err.message);
    throw err;
  }
}

function hubspotReason(code: string | undefined, message: string, field?: string): RejectionReason {
  return { code: code ?? 'VALIDATION_ERROR', message, origin: 'hubspot', ...(field ? { field } : {}) };
}

const escapeRegExp = (v: string): string => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Where `message` quotes `value` as a whole word (case-insensitively; `a@x.com` is not in `ba@x.com`),
 * or -1.
 */
function quotedAt(message: string, value: string): number {
  if (!value.trim()) return -1;
  return message.search(new RegExp(`(?<![\\w@.+-])${escapeRegExp(value.trim())}(?![\\w@+-]|\\.\\w)`, 'i'));
}

/**
 * The inputs a whole-batch 400 names: for each problem, the inputs whose value of the named property (for
 * `email`, the id too) its message quotes first — "x was not one of the allowed options: [a, b]" names
 * x, not the inputs holding a or b. One such input is `named` (rejected with that problem); several are
 * `shared` (a value like `lifecyclestage=lead` can be bad for one contact and fine for another).
 */
function suspectsOf(err: HubSpotApiError, contacts: PreparedContact[]): { named: Map<number, NamedProblem>; shared: Set<number> } {
  const named = new Map<number, NamedProblem>();
  const shared = new Set<number>();
  for (const p of namedProblems(err)) {
    let first = Infinity;
    let holders: number[] = [];
    contacts.forEach((c, i) => {
      const values = p.property === 'email' ? [c.email, c.properties.email] : [c.properties[p.property]];
      const at = Math.min(...values.map((v) => (typeof v === 'string' ? quotedAt(p.message, v) : -1)).filter((x) => x >= 0));
      if (at < first) [first, holders] = [at, [i]];
      else if (at === first && at !== Infinity) holders.push(i);
    });
    if (holders.length === 1) {
      if (!named.has(holders[0])) named.set(holders[0], p);
    } else for (const i of holders) shared.add(i);
  }
  for (const i of named.keys()) shared.delete(i);
  return { named, shared };
}

export async function sendBatch(client: HubSpotClient, contacts: PreparedContact[], options: SendOptions = {}): Promise<BatchOutcome> {
  const o: ResolvedOptions = {
    traceIds: options.traceIds ?? true,
    retry: retryOf(options),
    ...(options.idProperty && options.idProperty !== 'email' ? { idProperty: options.idProperty } : {}),
  };
  const outcome: BatchOutcome = { upserted: [], rejected: [] };
  await sendIsolating(client, contacts, o, outcome, true);
  return outcome;
}

async function sendIsolating(
  client: HubSpotClient,
  contacts: PreparedContact[],
  o: ResolvedOptions,
  outcome: BatchOutcome,
  retryUnconfirmed: boolean,
): Promise<void> {
  if (contacts.length === 0) return;
  let result: BatchUpsertResult;
  try {
    result = await upsert(client, contacts, o);
  } catch (err) {
    if (err instanceof HubSpotApiError && err.kind === 'validation') {
      if (contacts.length === 1) {
        const { code, message } = validationDetail(err);
        outcome.rejected.push({ contact: contacts[0], reason: hubspotReason(code, message) });
        return;
      }
      const suspects = suspectsOf(err, contacts);
      if (suspects.named.size + suspects.shared.size > 0) {
        // HubSpot named the bad values: reject the one input holding each, re-send the others, and send
        // alone each input holding a value several inputs share (only some of them may be bad).
        for (const [i, p] of suspects.named)
          outcome.rejected.push({ contact: contacts[i], reason: hubspotReason(p.code, p.message, p.property) });
        const rest = contacts.filter((_, i) => !suspects.named.has(i) && !suspects.shared.has(i));
        await sendIsolating(client, rest, o, outcome, retryUnconfirmed);
        for (const i of suspects.shared) await sendIsolating(client, [contacts[i]], o, outcome, retryUnconfirmed);
        return;
      }
      // Whole batch refused for some record it does not name: split and find it (log2(100) ≈ 7 levels at most).
      const mid = Math.ceil(contacts.length / 2);
      await sendIsolating(client, contacts.slice(0, mid), o, outcome, retryUnconfirmed);
      await sendIsolating(client, contacts.slice(mid), o, outcome, retryUnconfirmed);
      return;
    }
    throw err;
  }

  const settled = new Set<number>();
  const byEmail = new Map(contacts.map((c, i) => [c.email, i]));
  const indexOf = (traceId?: string, email?: string): number | undefined => {
    if (traceId !== undefined && /^\d+$/.test(traceId) && Number(traceId) < contacts.length) return Number(traceId);
    return email !== undefined ? byEmail.get(email.toLowerCase()) : undefined;
  };
  for (const e of result.errors) {
    const targets = e.objectWriteTraceIds.length ? e.objectWriteTraceIds.map((t) => indexOf(t)) : e.ids.map((id) => indexOf(undefined, id));
    for (const i of targets) {
      if (i === undefined || settled.has(i)) continue;
      settled.add(i);
      outcome.rejected.push({ contact: contacts[i], reason: hubspotReason(e.code, e.message) });
    }
  }
  for (const r of result.results) {
    const i = indexOf(r.objectWriteTraceId, r.email);
    if (i === undefined || settled.has(i)) continue;
    settled.add(i);
    outcome.upserted.push({ contact: contacts[i], isNew: r.isNew, id: r.id });
  }
  // HubSpot answered without mentioning some inputs: upserts are idempotent, so send those once more.
  const unconfirmed = contacts.filter((_, i) => !settled.has(i));
  if (unconfirmed.length === 0) return;
  if (retryUnconfirmed) {
    await sendIsolating(client, unconfirmed, o, outcome, false);
    return;
  }
  for (const contact of unconfirmed) {
    outcome.rejected.push({
      contact,
      reason: {
        code: 'HUBSPOT_UNCONFIRMED',
        message: 'HubSpot accepted the batch but did not confirm this contact twice in a row; re-run the rejected members.',
        origin: 'hubspot',
      },
    });
  }
}
