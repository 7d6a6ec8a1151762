/**
 * Sends one batch (≤ 100 contacts) to HubSpot's batch upsert and accounts for every contact in it:
 * upserted (created or updated) or rejected with HubSpot's code and message. One bad record never takes
 * the others down: every input carries an `objectWriteTraceId` so HubSpot can answer 207 with per-record
 * errors, and a whole-batch 400 is isolated by bisection down to the offending record.
 *
 * Transient failures and unexpected 429s are retried here a bounded number of times (the governor paces
 * the retries); what still fails is thrown for Temporal to retry the page from its checkpoint.
 */
import { codeOfValidationError, type BatchUpsertResult, type HubSpotClient } from '../hubspot/client';
import { HubSpotApiError } from '../hubspot/errors';
import type { ContactUpsertInput } from '../hubspot/types';
import type { PreparedContact, RejectionReason } from '../mapping/types';

export interface BatchOutcome {
  upserted: Array<{ contact: PreparedContact; isNew: boolean }>;
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
}

/** HubSpot's 429 DAILY, surfaced so the caller can wait for the reset instead of burning retries. */
export class DailyLimitHitError extends Error {
  override name = 'DailyLimitHitError';
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason ?? new Error('aborted'));
      },
      { once: true },
    );
  });
}

/** Calls batch upsert, retrying what can be retried. Throws non-retryable errors and the last retryable one. */
type ResolvedOptions = Required<Omit<SendOptions, 'signal'>> & { signal?: AbortSignal };

async function upsertWithRetry(client: HubSpotClient, inputs: ContactUpsertInput[], o: ResolvedOptions): Promise<BatchUpsertResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.batchUpsertContacts(inputs);
    } catch (err) {
      if (!(err instanceof HubSpotApiError) || !err.retryable) throw err;
      if (err.kind === 'rate_limit' && err.info.policy === 'DAILY') throw new DailyLimitHitError(err.message);
      if (attempt >= o.maxAttempts) throw err;
      // The governor already holds back the next call after a 429; transient errors back off exponentially.
      const backoff =
        err.kind === 'rate_limit' ? (err.info.retryAfterMs ?? 0) : Math.min(o.maxBackoffMs, o.baseBackoffMs * 2 ** (attempt - 1));
      const jittered = backoff > 0 ? backoff / 2 + Math.random() * (backoff / 2) : 0;
      if (jittered > 0) await o.sleep(jittered, o.signal);
    }
  }
}

function toInput(c: PreparedContact, traceId: string | undefined): ContactUpsertInput {
  return { id: c.email, idProperty: 'email', properties: c.properties, ...(traceId === undefined ? {} : { objectWriteTraceId: traceId }) };
}

function hubspotReason(code: string | undefined, message: string, field?: string): RejectionReason {
  return { code: code ?? 'VALIDATION_ERROR', message, origin: 'hubspot', ...(field ? { field } : {}) };
}

export async function sendBatch(client: HubSpotClient, contacts: PreparedContact[], options: SendOptions = {}): Promise<BatchOutcome> {
  const o: ResolvedOptions = {
    traceIds: options.traceIds ?? true,
    maxAttempts: options.maxAttempts ?? 6,
    baseBackoffMs: options.baseBackoffMs ?? 500,
    maxBackoffMs: options.maxBackoffMs ?? 8000,
    sleep: options.sleep ?? defaultSleep,
    signal: options.signal,
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
    result = await upsertWithRetry(
      client,
      contacts.map((c, i) => toInput(c, o.traceIds ? String(i) : undefined)),
      o,
    );
  } catch (err) {
    if (err instanceof HubSpotApiError && err.kind === 'validation') {
      if (contacts.length === 1) {
        outcome.rejected.push({
          contact: contacts[0],
          reason: hubspotReason(codeOfValidationError(err), err.info.body?.message ?? err.message),
        });
        return;
      }
      // Whole batch refused for some record in it: split and find it (log2(100) ≈ 7 levels at most).
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
    outcome.upserted.push({ contact: contacts[i], isNew: r.isNew });
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
