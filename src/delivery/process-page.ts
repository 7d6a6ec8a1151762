/**
 * Turns one page of source records into HubSpot upserts and accounts for every record:
 * parse → prepare (validate + coerce against the account's property types) → merge duplicate emails →
 * batches of ≤ 100 sent with bounded concurrency. Rejected records are stored (with what is needed to
 * re-send them) before the page is reported done.
 *
 * Resumable: batches are cut deterministically from the page, and `checkpoint` lists the batches
 * already done with their counts, so a retried page skips them (at most the batches in flight at a
 * crash are sent twice — harmless, upserts are idempotent by email).
 */
import type { HubSpotClient } from '../hubspot/client';
import type { HubSpotProperty } from '../hubspot/types';
import { DUPLICATE_MERGED, mergeByEmail } from '../mapping/merge';
import { mappingSourcePaths, prepareRecord } from '../mapping/prepare';
import type { Mapping, PreparedContact, RejectionReason } from '../mapping/types';
import type { SourceRecord } from '../members/types';
import { changeOf, resolveDesired, type Change, type DesiredState, type ResolvedState } from '../dataflow/change';
import type { MemberStatus } from '../members/types';
import type { ContactMemory, MemoryRow } from '../store/contact-memory';
import type { RejectionStore } from '../store/types';
import { addCounts, countMember, countRejected, countSkipped, emptyCounts, emptyPlan, type DeliveryCounts } from './counts';
import { planBatch, type PlanLine } from './plan';
import { sendBatch, type BatchOutcome, type SendOptions } from './send-batch';
import { sendCreates, sendUpdates, type ModeOutcome, type SyncMode } from './sync-modes';

export const MAX_BATCH_SIZE = 100;

/** Done batches of a page and their counts; small and numeric: it travels in heartbeat details. */
export interface PageCheckpoint {
  done: Record<string, DeliveryCounts>;
  /** With the change memory: which ready contacts the page sends (bitmap, base64), fixed at its first attempt. */
  send?: string;
}

export interface PageContext {
  activationId: string;
  audienceId: string;
  audiencePropertyName: string;
  /** Several-audience runs: every listed audience and its status property (one upsert carries them all). */
  audiences?: ReadonlyArray<{ id: string; propertyName: string }>;
  mapping: Mapping;
  properties: Map<string, HubSpotProperty>;
  client: HubSpotClient;
  rejections: RejectionStore;
  concurrency: number;
  checkpoint?: PageCheckpoint;
  onCheckpoint?: (cp: PageCheckpoint) => void;
  send?: SendOptions;
  /** Confirmed-state memory (docs/dataflows.md): send only contacts that differ, remember what HubSpot accepted. */
  memory?: PageMemory;
  /** Aborted (the run was cancelled, or the rejection guard tripped): start no further batch; batches under way finish and are counted. */
  stop?: AbortSignal;
  /** `upsert` (default), `update` (never creates) or `create` (never changes): src/delivery/sync-modes.ts. */
  mode?: SyncMode;
  /** The unique contact property contacts are matched by (default `email`); its value is the mapped one. */
  matchKey?: string;
  /** Dry run: read HubSpot and store the plan lines; nothing is written to HubSpot or the memory. */
  dryRun?: {
    plans: { add(activationId: string, lines: PlanLine[]): Promise<void> };
    /** List-encoded audiences: the plan counts the memberships the run would add and remove. */
    listAudienceIds?: readonly string[];
  };
  /**
   * Given, the page returns once its batches are sent, without waiting for the memory confirms still
   * committing: `settled` resolves when they all are (each batch's checkpoint follows its own confirm),
   * rejects if one failed. The caller must not record the page as done before it resolves.
   */
  onConfirmsPending?: (settled: Promise<void>) => void;
  /** The page's counts so far (after preparing, then after every batch): the rejection guard watches them. */
  onProgress?: (soFar: DeliveryCounts) => void;
  /** Status properties not written (audiences encoded as HubSpot lists only); their statuses are still remembered. */
  omitProperties?: ReadonlySet<string>;
}

/** The contacts as sent, without the omitted properties; `original` maps each sent contact back. */
function withoutProperties(contacts: PreparedContact[], omit: ReadonlySet<string> | undefined) {
  const original = new Map<PreparedContact, PreparedContact>();
  if (!omit?.size) return { sent: contacts, original };
  const sent = contacts.map((c) => {
    const properties = Object.fromEntries(Object.entries(c.properties).filter(([name]) => !omit.has(name)));
    const copy: PreparedContact = { ...c, properties };
    original.set(copy, c);
    return copy;
  });
  return { sent, original };
}

export interface PageMemory {
  store: Pick<ContactMemory, 'keyOf' | 'resolve' | 'lookup' | 'confirm' | 'markSeen'>;
  destinationId: string;
  /**
   * Keys of the page delivered just before this one, when this page's memory was read ahead while that page
   * was still being sent (`beginPage`): what the memory holds for them is read again before deciding.
   */
  previousPageKeys?: ReadonlySet<string>;
  /** Send everything whatever is remembered (still confirm). */
  fullResync: boolean;
  /** The source is a complete snapshot (`exitMissing`): mark its members seen under `runId`, write exits for audiences they left. */
  exitMissing?: { runId: string };
  /**
   * The last page of its page activity (a run's pages are split into activities of a few seconds): the
   * activity waits for these confirms before it returns, so they are committed without delay. Other
   * pages' confirms go in the background (the memory may group them longer).
   */
  lastPage?: boolean;
}

export const UNCHANGED = 'UNCHANGED';

/**
 * With `exitMissing`: a contact still in the snapshot but no longer a member of a listed audience the
 * memory holds as realized/existing gets `exited` for it in its own upsert.
 */
function withExits(
  c: PreparedContact,
  row: MemoryRow | undefined,
  desired: Map<PreparedContact, DesiredState & { keyHash: string }>,
  ctx: PageContext,
): PreparedContact {
  const want = desired.get(c)!;
  const left = audiencesOf(ctx).filter(
    (a) => !(a.id in want.statuses) && (row?.statuses[a.id] === 'realized' || row?.statuses[a.id] === 'existing'),
  );
  if (left.length === 0) return c;
  const next: PreparedContact = { ...c, properties: { ...c.properties }, statuses: { ...(c.statuses ?? {}) } };
  const statuses: Record<string, MemberStatus> = { ...want.statuses };
  for (const a of left) {
    next.properties[a.propertyName] = 'exited';
    statuses[a.id] = 'exited';
  }
  next.statuses = c.statuses ? statuses : undefined;
  desired.set(next, { ...want, statuses });
  return next;
}

/** The audiences of the run with their status properties. */
function audiencesOf(ctx: PageContext) {
  return ctx.audiences ?? [{ id: ctx.audienceId, propertyName: ctx.audiencePropertyName }];
}

interface Rejection {
  line: number;
  email?: string;
  reason: RejectionReason;
}

/** A record that is neither sent nor rejected, with why (counted, and listed for tests and audits). */
export interface Skip {
  line: number;
  email?: string;
  reason: { code: string; message: string };
}

export interface PreparedPage {
  /** One per email, in order of first appearance; duplicates already merged (later values win). */
  ready: PreparedContact[];
  counts: DeliveryCounts;
  rejections: Rejection[];
  skipped: Skip[];
}

/**
 * Pre-send work: parse → prepare → merge duplicate emails. Every record ends up ready, rejected or
 * skipped exactly once (received = ready + rejected + skipped). Deterministic for a given page.
 */
export function preparePage(
  records: SourceRecord[],
  ctx: Pick<PageContext, 'audienceId' | 'audiencePropertyName' | 'audiences' | 'mapping' | 'properties'>,
): PreparedPage {
  const counts = emptyCounts();
  const rejections: Rejection[] = [];
  const skipped: Skip[] = [];
  const sourcePaths = mappingSourcePaths(ctx.mapping);
  const prepared: PreparedContact[] = [];
  const audienceProperties = ctx.audiences ? new Map(ctx.audiences.map((a) => [a.id, a.propertyName])) : undefined;
  counts.received = records.length;
  for (const record of records) {
    const outcome = prepareRecord(record, { ...ctx, sourcePaths, ...(audienceProperties ? { audienceProperties } : {}) });
    if (outcome.kind === 'ready') prepared.push(outcome.contact);
    else if (outcome.kind === 'skipped') {
      countSkipped(counts, outcome.reason.code);
      skipped.push({ line: outcome.line, reason: outcome.reason });
    } else {
      countRejected(counts, outcome.reason.code);
      rejections.push({ line: outcome.line, email: outcome.email, reason: outcome.reason });
    }
  }
  const { merged, mergedAway } = mergeByEmail(prepared);
  if (mergedAway.length) countSkipped(counts, DUPLICATE_MERGED, mergedAway.length);
  const lineByEmail = new Map(merged.map((m) => [m.email, m.line]));
  for (const c of mergedAway) {
    skipped.push({
      line: c.line,
      email: c.email,
      reason: { code: DUPLICATE_MERGED, message: `Merged into a later record with the same email (line ${lineByEmail.get(c.email)})` },
    });
  }
  if (audienceProperties)
    for (const c of merged) for (const [id, status] of Object.entries(c.statuses ?? {})) countMember(counts, id, status);
  return { ready: merged, counts, rejections, skipped };
}

export const MATCH_KEY_MISSING = 'MATCH_KEY_MISSING';

/** Matching by a custom unique property: a member without a value for it cannot be matched, so it is rejected. */
function requireMatchValue(pre: PreparedPage, matchKey: string | undefined): PreparedPage {
  if (!matchKey || matchKey === 'email') return pre;
  const ready: PreparedContact[] = [];
  for (const c of pre.ready) {
    if (c.properties[matchKey]) {
      ready.push(c);
      continue;
    }
    countRejected(pre.counts, MATCH_KEY_MISSING);
    pre.rejections.push({
      line: c.line,
      email: c.email,
      reason: { code: MATCH_KEY_MISSING, message: `No value for the match key '${matchKey}'`, field: matchKey, origin: 'validation' },
    });
  }
  return { ...pre, ready };
}

async function storeRejections(ctx: PageContext, byLine: Map<number, SourceRecord>, rejections: Rejection[]): Promise<void> {
  if (rejections.length === 0) return;
  await ctx.rejections.add(
    ctx.activationId,
    rejections.map((r) => ({ key: String(r.line), line: r.line, email: r.email, reason: r.reason, record: byLine.get(r.line)! })),
  );
}

export function splitBatches<T>(items: T[], size = MAX_BATCH_SIZE): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `fn` over items with at most `limit` in flight; stops scheduling after the first failure. */
async function forEachConcurrent<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  });
  const results = await Promise.allSettled(lanes);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * The page's contacts that differ from what HubSpot last confirmed (all of them without a memory or with
 * `fullResync`), with exits added for audiences a contact left (`exitMissing`). Filtering the whole page
 * before cutting batches keeps every call full (1% changed contacts take 1% of the calls, not one call
 * per batch of the source). Which contacts are sent is fixed at the page's first attempt and kept in its
 * checkpoint (`send`, a bitmap over the ready contacts): a retried page cuts the same batches even though
 * the memory has since confirmed some of them, so its done batches still line up.
 */
async function changedContacts(
  ready: PreparedContact[],
  ctx: PageContext,
  checkpoint: PageCheckpoint,
  counts: DeliveryCounts,
  resolving: Promise<ResolvedState[]> | undefined,
): Promise<{
  toSend: PreparedContact[];
  /** Every ready contact as the run would write it (exits added). */
  all: PreparedContact[];
  desired: Map<PreparedContact, DesiredState & { keyHash: string }>;
}> {
  const desired = new Map<PreparedContact, DesiredState & { keyHash: string }>();
  const memory = ctx.memory;
  if (!memory || !resolving) return { toSend: ready, all: ready, desired };
  const states = await resolving;
  const remembered = new Map<string, MemoryRow>();
  const verdict = new Map<string, Change>();
  ready.forEach((contact, i) => {
    desired.set(contact, states[i].desired);
    if (states[i].remembered) remembered.set(states[i].desired.keyHash, states[i].remembered);
    if (states[i].change) verdict.set(states[i].desired.keyHash, states[i].change);
  });
  // Read ahead while the previous page was sent: contacts it also held may have been confirmed since.
  const previous = memory.previousPageKeys;
  const stale = previous && lookupWanted(memory) ? states.map((x) => x.desired.keyHash).filter((k) => previous.has(k)) : [];
  for (const part of splitBatches(stale, 1000)) {
    const fresh = await memory.store.lookup(memory.destinationId, part);
    for (const k of part) {
      const row = fresh.get(k);
      if (row) remembered.set(k, row);
      else remembered.delete(k);
      verdict.delete(k); // decided again below, from the fresh row
    }
  }
  const withLeft = memory.exitMissing ? ready.map((x) => withExits(x, remembered.get(desired.get(x)!.keyHash), desired, ctx)) : ready;
  if (memory.fullResync) return { toSend: withLeft, all: withLeft, desired };
  // A checkpoint written without a mask (by an earlier version) cut its batches from every contact.
  const resumedWithoutMask = checkpoint.send === undefined && Object.keys(checkpoint.done).length > 0;
  const send =
    checkpoint.send !== undefined
      ? decodeMask(checkpoint.send, withLeft.length)
      : withLeft.map((x, i) => {
          const want = desired.get(x)!;
          // A contact given exits here differs from what the memory judged: decide it from its row.
          const change = x === ready[i] ? verdict.get(want.keyHash) : undefined;
          return resumedWithoutMask || (change ?? changeOf(remembered.get(want.keyHash), want)) !== 'unchanged';
        });
  checkpoint.send = encodeMask(send);
  const toSend = withLeft.filter((_, i) => send[i]);
  if (toSend.length < withLeft.length) countSkipped(counts, UNCHANGED, withLeft.length - toSend.length);
  return { toSend, all: withLeft, desired };
}

function lookupWanted(memory: PageMemory): boolean {
  return !(memory.fullResync && !memory.exitMissing);
}

/** A page prepared and, with the memory, its memory read started: `processPage` finishes it. */
export interface PageStart {
  pre: PreparedPage;
  /** The memory's view of the ready contacts (with a memory). */
  resolving?: Promise<ResolvedState[]>;
  /** The keys of the page's ready contacts, for the next page's `previousPageKeys`. */
  keys(): Promise<Set<string>>;
}

/**
 * Prepares a page and starts reading what the memory holds for it. Called for the next page while the
 * current one is still being sent, it keeps the memory's read off the run's critical path.
 */
export function beginPage(records: SourceRecord[], ctx: PageContext): PageStart {
  const pre = requireMatchValue(preparePage(records, ctx), ctx.matchKey);
  const memory = ctx.memory;
  const resolving = memory
    ? resolveDesired(memory.store, memory.destinationId, pre.ready, audiencesOf(ctx), {
        lookup: lookupWanted(memory),
        // Exits are decided from the remembered statuses; otherwise the memory's verdict is enough.
        rows: memory.exitMissing !== undefined,
        ...(memory.exitMissing && !ctx.dryRun ? { seenRunId: memory.exitMissing.runId } : {}),
      })
    : undefined;
  resolving?.catch(() => undefined); // surfaced by processPage, which awaits it
  return {
    pre,
    resolving,
    keys: async () => new Set((resolving ? await resolving : []).map((x) => x.desired.keyHash)),
  };
}

/** Memberships of list-encoded audiences a run would write for these contacts: add when realized/existing, remove when exited. */
function listOps(
  contacts: readonly PreparedContact[],
  desired: Map<PreparedContact, DesiredState>,
  listAudienceIds: readonly string[] = [],
): { listAdd: number; listRemove: number } {
  let listAdd = 0;
  let listRemove = 0;
  for (const c of contacts)
    for (const id of listAudienceIds) {
      const status = desired.get(c)?.statuses[id];
      if (status === 'exited') listRemove++;
      else if (status) listAdd++;
    }
  return { listAdd, listRemove };
}

function encodeMask(bits: boolean[]): string {
  const bytes = Buffer.alloc(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => {
    if (b) bytes[i >> 3] |= 1 << (i & 7);
  });
  return bytes.toString('base64');
}

function decodeMask(mask: string, length: number): boolean[] {
  const bytes = Buffer.from(mask, 'base64');
  return Array.from({ length }, (_, i) => ((bytes[i >> 3] ?? 0) & (1 << (i & 7))) !== 0);
}

export async function processPage(records: SourceRecord[], ctx: PageContext, start = beginPage(records, ctx)): Promise<DeliveryCounts> {
  const byLine = new Map(records.map((r) => [r.line, r]));
  const pre = start.pre;
  await storeRejections(ctx, byLine, pre.rejections);
  if (ctx.dryRun && pre.rejections.length)
    await ctx.dryRun.plans.add(
      ctx.activationId,
      pre.rejections.map((r) => ({
        line: r.line,
        email: r.email,
        action: 'reject',
        reason: { code: r.reason.code, message: r.reason.message },
      })),
    );
  // A member rejected before sending is still in the snapshot: seen, so no exit is written for it.
  const seen = ctx.memory?.exitMissing && !ctx.dryRun ? pre.rejections.filter((r) => r.email !== undefined) : [];
  for (const part of splitBatches(seen, 1000)) {
    const m = ctx.memory!;
    await m.store.markSeen(
      m.destinationId,
      m.exitMissing!.runId,
      part.map((r) => m.store.keyOf(m.destinationId, r.email!)),
    );
  }

  const pageCounts = { ...pre.counts };
  // A retried page keeps its first attempt's send mask, so its done batches still name the same contacts.
  const checkpoint: PageCheckpoint = { ...ctx.checkpoint, done: { ...(ctx.checkpoint?.done ?? {}) } };
  const { toSend, all, desired } = await changedContacts(pre.ready, ctx, checkpoint, pageCounts, start.resolving);
  // Remembered unchanged contacts: a dry run reports them as a real run would skip them, and the list
  // memberships every member gets (unchanged ones too), as the run's list step would write them.
  if (ctx.dryRun)
    pageCounts.plan = { ...emptyPlan(), unchanged: pre.ready.length - toSend.length, ...listOps(all, desired, ctx.dryRun.listAudienceIds) };
  const batches = splitBatches(toSend);
  const memory = ctx.memory;
  // The done batches' sum, kept as they finish: summing them all again after every batch cost a page of
  // 100 batches 5,000 additions.
  let doneCounts = Object.values(checkpoint.done).reduce(addCounts, emptyCounts());
  const soFar = (): DeliveryCounts => addCounts(pageCounts, doneCounts);
  ctx.onProgress?.(soFar());
  const confirming: Array<Promise<void>> = [];
  // Counts of the batches this attempt sent: the page's total, whether or not their confirms (and so
  // their checkpoints) are committed yet.
  const sentCounts: Record<string, DeliveryCounts> = {};
  let returned = false;
  const batchDone = (i: number, c: DeliveryCounts) => {
    checkpoint.done[i] = c;
    doneCounts = addCounts(doneCounts, c);
    // After the page returned, its caller records it whole (behind these confirms): a late batch
    // checkpoint would go back to the page's start, a late progress report count it twice.
    if (returned) return;
    ctx.onCheckpoint?.({ ...checkpoint, done: { ...checkpoint.done } });
    ctx.onProgress?.(soFar());
  };
  await forEachConcurrent(batches, ctx.concurrency, async (batch, i) => {
    if (checkpoint.done[i]) return;
    if (ctx.stop?.aborted) throw ctx.stop.reason;
    const c = emptyCounts();
    const stripped = withoutProperties(batch, ctx.omitProperties);
    if (ctx.dryRun) {
      c.plan = emptyPlan();
      const planned = await planBatch(ctx.client, stripped.sent, {
        mode: ctx.mode ?? 'upsert',
        matchKey: ctx.matchKey ?? 'email',
        statusProperties: statusPropertiesOf(ctx),
      });
      for (const s of planned.skipped) countSkipped(c, s.code);
      for (const k of Object.keys(planned.plan) as Array<keyof typeof planned.plan>) c.plan[k] += planned.plan[k];
      await ctx.dryRun.plans.add(ctx.activationId, planned.lines);
      return batchDone(i, c);
    }
    const sent = await deliver(ctx, stripped.sent);
    const back = <T extends { contact: PreparedContact }>(x: T): T => ({ ...x, contact: stripped.original.get(x.contact) ?? x.contact });
    const outcome = { upserted: sent.upserted.map(back), rejected: sent.rejected.map(back), skipped: sent.skipped.map(back) };
    for (const s of outcome.skipped) countSkipped(c, s.reason.code);
    // Remembered only once HubSpot accepted them, and before the batch counts as done (its checkpoint);
    // the lane does not wait for it before its next batch.
    const confirmed =
      memory && outcome.upserted.length
        ? memory.store.confirm(
            memory.destinationId,
            outcome.upserted.map((u) => {
              const want = desired.get(u.contact)!;
              return { keyHash: want.keyHash, fingerprint: want.fingerprint, ...(u.id ? { recordId: u.id } : {}), statuses: want.statuses };
            }),
            { background: !memory.lastPage },
          )
        : undefined;
    for (const u of outcome.upserted) {
      c.upserted++;
      if (u.isNew) c.created++;
      else c.updated++;
    }
    for (const r of outcome.rejected) countRejected(c, r.reason.code);
    await storeRejections(
      ctx,
      byLine,
      outcome.rejected.map((r) => ({ line: r.contact.line, email: r.contact.email, reason: r.reason })),
    );
    sentCounts[i] = c;
    if (!confirmed) return batchDone(i, c);
    const settled = confirmed.then(() => batchDone(i, c));
    settled.catch(() => undefined); // surfaced below, once every lane has stopped
    confirming.push(settled);
  });
  // A failed confirm fails the page: its batch is not done, so a retry sends it again.
  const settled = Promise.allSettled(confirming).then((results) => {
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  });
  if (ctx.onConfirmsPending) {
    settled.catch(() => undefined); // the caller surfaces it
    ctx.onConfirmsPending(settled);
  } else await settled;

  let total = pageCounts;
  const pageDone: Record<string, DeliveryCounts> = { ...checkpoint.done, ...sentCounts };
  for (const c of Object.values(pageDone)) total = addCounts(total, c);
  if (ctx.dryRun) total.plan = { ...(total.plan ?? emptyPlan()), reject: (total.plan?.reject ?? 0) + pre.counts.rejected };
  returned = true;
  return total;
}

/** The audiences' status properties (a dry run counts contacts whose status would become `exited`). */
function statusPropertiesOf(ctx: PageContext): Set<string> {
  return new Set(ctx.audiences ? ctx.audiences.map((a) => a.propertyName) : [ctx.audiencePropertyName]);
}

/** Sends one batch in the run's sync mode. */
async function deliver(ctx: PageContext, contacts: PreparedContact[]): Promise<ModeOutcome> {
  const matchKey = ctx.matchKey ?? 'email';
  if (ctx.mode === 'update') return sendUpdates(ctx.client, contacts, matchKey);
  if (ctx.mode === 'create') return sendCreates(ctx.client, contacts, matchKey);
  const outcome: BatchOutcome = await sendBatch(ctx.client, contacts, {
    ...ctx.send,
    ...(matchKey !== 'email' ? { idProperty: matchKey } : {}),
  });
  return { ...outcome, skipped: [] };
}
