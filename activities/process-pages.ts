/**
 * The activation's working activity: delivers pages of members one after another, for a few seconds or
 * a few pages at a time, reading the next page while the current one is being sent (so HubSpot's budget
 * is never left idle between pages). After every batch it records where it is in the shared store (and in
 * its heartbeat); a retried run resumes after its last completed batch, so a crash re-sends at most the
 * batches that were in flight.
 */
import { Context } from '@temporalio/activity';
import { accountingError, addCounts, emptyCounts, type DeliveryCounts } from '../src/delivery/counts';
import { beginPage, processPage as deliverPage, type PageCheckpoint, type PageContext, type PageStart } from '../src/delivery/process-page';
import { propertyCacheKey, type PropertyCache } from '../src/destinations/property-cache';
import type { HubSpotClient } from '../src/hubspot/client';
import type { SourceReader } from '../src/members/source-reader';
import type { SourceCursor, SourceRef } from '../src/members/types';
import type { ServiceMetrics } from '../src/metrics/service-metrics';
import type { RunCheckpoint, RunCheckpoints } from '../src/store/checkpoints';
import type { DestinationRecord } from '../src/store/destinations';
import { EXIT_MISSING_NEEDS_MEMORY, LISTS_NEED_MEMORY } from '../src/dataflow/change';
import type { ContactMemory } from '../src/store/contact-memory';
import type { ListIntents } from '../src/store/list-intents';
import { recordingListIntents } from '../src/delivery/list-intent-recorder';
import type { RejectionStore } from '../src/store/types';
import { applicationFailure, Failure } from '../src/failures';
import type { SyncMode } from '../src/delivery/sync-modes';
import { guardCounts, guardVerdict } from '../src/delivery/rejection-guard';
import type { PlanStore } from '../src/store/plans';
import { type AudienceRef, type DailyLimitDetails } from '../workflows/types';
import { isDailyLimit, markDailyLimit } from './daily-limit';
import { keepHeartbeating } from './heartbeat';
import { classified, clientFor, loadDestination, toFailure, type HubSpotAccessDeps } from './hubspot-access';

export interface ProcessPagesInput {
  activationId: string;
  destinationId: string;
  /** The HubSpot portal the run started on (from validateConnection); the destination must still be on it. */
  portalId?: number;
  audience: AudienceRef;
  propertyName: string;
  /** Several-audience runs: every listed audience with its status property (`audience` is the first). */
  audiences?: Array<{ id: string; propertyName: string }>;
  /** Ignore the confirmed-state memory (send every member; still confirm). */
  fullResync?: boolean;
  /** Status properties not written: audiences encoded as HubSpot lists only. */
  listOnlyProperties?: string[];
  /** Audiences kept as HubSpot lists: each page records their memberships (written after the upserts). */
  listAudienceIds?: string[];
  /** The source is a complete snapshot: mark its members seen (exits are written after the last page, `writeExits`). */
  exitMissing?: boolean;
  source: SourceRef;
  /** Where this run starts; also the key of its checkpoint. */
  cursor: SourceCursor;
  pageSize?: number;
  concurrency?: number;
  /** Return after this many pages, or once this much time has passed after a page (progress shows per run). */
  maxPages?: number;
  maxMillis?: number;
  /** Dry run: read and plan, write nothing (docs/safe-runs.md). */
  dryRun?: boolean;
  mode?: SyncMode;
  /** Rejection guard: the bound, the members read before it judges, and the run's counts before this activity. */
  guard?: { maxRejectedPercent: number; minRecords: number; before: Pick<DeliveryCounts, 'received' | 'rejected' | 'rejectedByReason'> };
}

export interface ProcessPagesResult {
  next: SourceCursor;
  done: boolean;
  pages: number;
  counts: DeliveryCounts;
}

export interface ProcessPagesDeps extends HubSpotAccessDeps {
  rejections: RejectionStore;
  checkpoints: RunCheckpoints;
  sourceReader: Pick<SourceReader, 'readPage'>;
  propertyCache: PropertyCache;
  defaultPageSize: number;
  defaultConcurrency: number;
  /** Pages and time per run when the workflow does not say (the config's worker defaults). */
  defaultMaxPages: number;
  defaultMaxMillis: number;
  metrics: ServiceMetrics;
  /** Confirmed-state memory: unchanged members are not sent; accepted ones are remembered. */
  contactMemory: ContactMemory;
  /** CONTACT_MEMORY: off sends every member and remembers nothing. */
  contactMemoryEnabled: boolean;
  /** Needed by runs with list-encoded audiences (the worker always has it). */
  listIntents?: ListIntents;
  /** Dry runs' plan lines (needed only by dry runs). */
  plans?: PlanStore;
}

/** After a cancellation, how long HubSpot requests under way may still finish (then they are aborted). */
const CANCEL_GRACE_MS = 5000;

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`The worker was built without ${name}.`);
  return value;
}

function progressOf(cp: RunCheckpoint | undefined): number {
  return cp ? cp.pagesDone * 1_000_000 + Object.keys(cp.page.done).length : -1;
}

/**
 * With the change memory most records of a re-run are not sent, and each page cuts its own batches, so
 * its last batch is partial: 1% changed contacts would cost one call per page. Pages of a memory-filtered
 * run are read CHANGE_PAGE_FACTOR times larger (up to 10,000 records), so the calls stay close to
 * changed ÷ 100 (docs/dataflows.md, "Calls per change"). Depends on the input only: a retried activity
 * reads the same pages, so its checkpoint still lines up.
 */
export const CHANGE_PAGE_FACTOR = 5;
export function readPageSize(pageSize: number, fullResync: boolean): number {
  return fullResync ? pageSize : Math.max(pageSize, Math.min(pageSize * CHANGE_PAGE_FACTOR, 10_000));
}

export function createProcessPages(deps: ProcessPagesDeps) {
  return async function processPages(input: ProcessPagesInput): Promise<ProcessPagesResult> {
    const ctx = Context.current();
    const started = Date.now();
    const pageSize = readPageSize(input.pageSize ?? deps.defaultPageSize, input.fullResync === true || !deps.contactMemoryEnabled);
    if (input.exitMissing && !deps.contactMemoryEnabled) throw applicationFailure(Failure.BadRequest, EXIT_MISSING_NEEDS_MEMORY);
    if (input.listAudienceIds?.length && !deps.contactMemoryEnabled) throw applicationFailure(Failure.BadRequest, LISTS_NEED_MEMORY);
    const maxPages = input.maxPages ?? deps.defaultMaxPages;
    const maxMillis = input.maxMillis ?? deps.defaultMaxMillis;

    // Resume from whichever record of progress is further along: the store, or the last heartbeat.
    const stored = await deps.checkpoints.get(input.activationId, input.cursor.offset);
    const beaten = ctx.info.heartbeatDetails as RunCheckpoint | undefined;
    let cp: RunCheckpoint = (progressOf(beaten) > progressOf(stored) ? beaten : stored) ?? {
      cursor: input.cursor,
      pagesDone: 0,
      counts: emptyCounts(),
      page: { done: {} },
    };

    // Checkpoints are written in order (each is a full snapshot), never two at once, and only once the
    // memory confirms of the progress they record are committed (`durable`): a page's last confirms may
    // still be committing while the next page is sent, and no heartbeat or stored checkpoint gets ahead
    // of them (invariant 8). `cp` is the progress made, `saved` the progress recorded.
    let saving: Promise<void> = Promise.resolve();
    let durable: Promise<void> = Promise.resolve();
    let saved = cp;
    let failure: unknown;
    const save = (next: RunCheckpoint) => {
      cp = next;
      const after = durable;
      saving = saving
        .then(() => after)
        .then(() => {
          saved = next;
          ctx.heartbeat(next);
          return deps.checkpoints.put(input.activationId, input.cursor.offset, next);
        });
      saving.catch((err: unknown) => (failure ??= err));
      return saving;
    };
    const stopHeartbeat = keepHeartbeating(ctx, { floorMs: 500, details: () => saved });
    // On cancellation no new batch starts (`stop`); requests under way get a grace period to finish, so
    // what HubSpot wrote is counted in the checkpoint, then they are aborted too.
    const sends = new AbortController();
    const grace = () => setTimeout(() => sends.abort(ctx.cancellationSignal.reason), CANCEL_GRACE_MS).unref();
    ctx.cancellationSignal.addEventListener('abort', grace, { once: true });

    // The rejection guard stops the page as a cancellation would (no new batch), with its own failure.
    const guardStop = new AbortController();
    const stop = AbortSignal.any([ctx.cancellationSignal, guardStop.signal]);
    const watch = (soFar: DeliveryCounts) => {
      if (!input.guard || guardStop.signal.aborted) return;
      const counts = guardCounts(input.guard.before, cp.counts, soFar);
      const verdict = guardVerdict(counts, { maxRejectedPercent: input.guard.maxRejectedPercent, minRecords: input.guard.minRecords });
      if (verdict)
        guardStop.abort(
          applicationFailure(Failure.RejectionLimit, verdict, {
            details: [{ received: counts.received, rejected: counts.rejected, rejectedByReason: counts.rejectedByReason }],
          }),
        );
    };
    if (input.dryRun && !deps.plans) throw applicationFailure(Failure.Internal, 'This worker cannot run dry runs (no plan store).');

    let d: DestinationRecord | undefined;
    let client: HubSpotClient | undefined;
    try {
      d = await loadDestination(deps, input.destinationId);
      if (input.portalId !== undefined && d.portalId !== input.portalId) {
        throw applicationFailure(
          Failure.DestinationPortalChanged,
          `Destination ${d.id} now points at HubSpot portal ${d.portalId}, but this run started on portal ${input.portalId}; a run only writes to the portal it started on. Nothing more was sent.`,
        );
      }
      client = clientFor(deps, d, { signal: sends.signal });
      const properties = await deps.propertyCache.get(propertyCacheKey(d), client);
      const listStore =
        input.listAudienceIds?.length && !input.dryRun
          ? recordingListIntents(deps.contactMemory, {
              intents: required(deps.listIntents, 'listIntents'),
              activationId: input.activationId,
              audienceIds: input.listAudienceIds,
            })
          : undefined;
      const destination = d;
      const hubspot = client;
      /** A page's context; `pageStart` is its source cursor, for its checkpoints. */
      const contextFor = (pageStart: SourceCursor, checkpoint?: PageCheckpoint): PageContext => ({
        activationId: input.activationId,
        audienceId: input.audience.id,
        audiencePropertyName: input.propertyName,
        ...(input.audiences ? { audiences: input.audiences } : {}),
        mapping: destination.mapping,
        properties,
        client: hubspot,
        rejections: deps.rejections,
        concurrency: input.concurrency ?? deps.defaultConcurrency,
        checkpoint,
        onCheckpoint: (page) => void save({ ...cp, cursor: pageStart, page }),
        send: { signal: sends.signal },
        stop,
        ...(input.mode && input.mode !== 'upsert' ? { mode: input.mode } : {}),
        ...(destination.mapping.matchKey && destination.mapping.matchKey !== 'email' ? { matchKey: destination.mapping.matchKey } : {}),
        ...(input.dryRun ? { dryRun: { plans: deps.plans!, listAudienceIds: input.listAudienceIds ?? [] } } : {}),
        onProgress: watch,
        onConfirmsPending: (settled) => {
          const before = durable;
          durable = Promise.all([before, settled]).then(() => undefined);
        },
        ...(input.listOnlyProperties?.length ? { omitProperties: new Set(input.listOnlyProperties) } : {}),
        ...(deps.contactMemoryEnabled
          ? {
              memory: {
                store: listStore ?? deps.contactMemory,
                destinationId: destination.id,
                fullResync: input.fullResync === true,
                ...(input.exitMissing ? { exitMissing: { runId: input.activationId } } : {}),
              },
            }
          : {}),
      });
      const read = (cursor: SourceCursor) => classified(() => deps.sourceReader.readPage(input.source, cursor, pageSize));
      // The next page is read, prepared and its memory read while this one is sent (src/delivery/process-page.ts).
      const readAhead = (cursor: SourceCursor) =>
        read(cursor).then((page) => ({ page, start: beginPage(page.records, contextFor(cursor)) }));
      let next = read(cp.cursor).then((page) => ({ page, start: undefined as PageStart | undefined }));
      let previous: PageStart | undefined;
      for (;;) {
        if (stop.aborted) throw stop.reason;
        if (failure) throw failure; // a checkpoint or a memory confirm failed: the retry resumes from the last saved
        const { page, start: ahead } = await next;
        const last = page.done || cp.pagesDone + 1 >= maxPages || Date.now() - started >= maxMillis;
        if (!last) {
          next = readAhead(page.next);
          next.catch(() => undefined); // a read error surfaces when the page is awaited, not as unhandled
        }
        const pageStart = cp.cursor;
        const ctxPage = contextFor(pageStart, cp.page);
        const start = ahead ?? beginPage(page.records, ctxPage);
        // Read ahead, this page's memory may predate the previous page's confirms: those contacts are read again.
        const previousPageKeys = ahead && previous ? await previous.keys() : undefined;
        const pageCounts = await deliverPage(
          page.records,
          ctxPage.memory
            ? { ...ctxPage, memory: { ...ctxPage.memory, lastPage: last, ...(previousPageKeys ? { previousPageKeys } : {}) } }
            : ctxPage,
          start,
        );
        previous = start;
        const broken = accountingError(pageCounts);
        if (broken) throw applicationFailure(Failure.AccountingError, `Page at line ${pageStart.line} does not balance: ${broken}.`);
        deps.metrics.recordContacts('batch', pageCounts);
        void save({ cursor: page.next, pagesDone: cp.pagesDone + 1, counts: addCounts(cp.counts, pageCounts), page: { done: {} } });
        watch(emptyCounts()); // the guard sees the whole page, its last batches too
        // Tripped by the page's last batches (nothing was left to stop): the run still ends failed.
        if (guardStop.signal.aborted) throw guardStop.signal.reason;
        if (last) {
          await saving;
          return { next: page.next, done: page.done, pages: cp.pagesDone, counts: cp.counts };
        }
      }
    } catch (err) {
      await saving.catch(() => undefined);
      if (isDailyLimit(err) && d && client) {
        // Nothing to retry until HubSpot's daily reset: tell the workflow when that is; the checkpoint stays.
        const resetsAt = await markDailyLimit(deps.governor, err, client, d);
        const details: DailyLimitDetails = { resetsAt: new Date(resetsAt).toISOString(), cursor: input.cursor };
        throw applicationFailure(
          Failure.DailyLimitReached,
          `HubSpot's daily API limit for portal ${d.portalId} is used up until ${details.resetsAt}.`,
          {
            details: [details],
          },
        );
      }
      throw toFailure(err);
    } finally {
      ctx.cancellationSignal.removeEventListener('abort', grace);
      stopHeartbeat();
    }
  };
}

export interface WriteExitsInput {
  activationId: string;
  destinationId: string;
  portalId?: number;
  /** Every listed audience with its status property. */
  audiences: Array<{ id: string; propertyName: string }>;
}

/**
 * After the last page of an `exitMissing` run: every contact remembered as realized/existing in a listed
 * audience that the snapshot did not contain gets `exited` written by record id (one update per contact
 * covering all its audiences), through the governor; the memory records the exits HubSpot confirmed and
 * forgets the records HubSpot no longer has. Idempotent: a retry pages again from the start (the exits
 * already recorded are no longer members). Ends the run's seen set.
 */
export function createWriteExits(deps: ProcessPagesDeps) {
  return async function writeExits(input: WriteExitsInput): Promise<{ exitsWritten: number }> {
    const ctx = Context.current();
    if (!deps.contactMemoryEnabled) throw applicationFailure(Failure.BadRequest, EXIT_MISSING_NEEDS_MEMORY);
    const d = await loadDestination(deps, input.destinationId);
    if (input.portalId !== undefined && d.portalId !== input.portalId) {
      throw applicationFailure(
        Failure.DestinationPortalChanged,
        `Destination ${d.id} now points at HubSpot portal ${d.portalId}, but this run started on portal ${input.portalId}; no exits were written.`,
      );
    }
    const client = clientFor(deps, d, { signal: ctx.cancellationSignal });
    const ids = input.audiences.map((a) => a.id);
    const propertyOf = new Map(input.audiences.map((a) => [a.id, a.propertyName]));
    // A retry resumes the count (the exits recorded before are no longer paged).
    let exitsWritten = (ctx.info.heartbeatDetails as { exitsWritten?: number } | undefined)?.exitsWritten ?? 0;
    let after = '';
    try {
      for (;;) {
        const rows = await deps.contactMemory.pageAbsentMembers(d.id, ids, input.activationId, after, 100);
        if (rows.length === 0) break;
        after = rows[rows.length - 1].keyHash;
        const withId = rows.filter((r) => r.recordId);
        const exits = withId.map((r) => ({
          keyHash: r.keyHash,
          recordId: r.recordId!,
          audienceIds: ids.filter((id) => r.statuses[id] === 'realized' || r.statuses[id] === 'existing'),
        }));
        const { missingIds } = await client.batchUpdateContactsById(
          exits.map((e) => ({ id: e.recordId, properties: Object.fromEntries(e.audienceIds.map((a) => [propertyOf.get(a)!, 'exited'])) })),
        );
        const missing = new Set(missingIds);
        const confirmed = exits.filter((e) => !missing.has(e.recordId));
        await deps.contactMemory.recordExits(d.id, confirmed);
        await deps.contactMemory.forgetContacts(
          d.id,
          [...exits.filter((e) => missing.has(e.recordId)), ...rows.filter((r) => !r.recordId)].map((e) => e.keyHash),
        );
        exitsWritten += confirmed.reduce((n, e) => n + e.audienceIds.length, 0);
        ctx.heartbeat({ exitsWritten });
      }
      await deps.contactMemory.endRun(d.id, input.activationId);
      return { exitsWritten };
    } catch (err) {
      throw toFailure(err);
    }
  };
}
