/** Activations: start, read (status, progress, summary), list (Temporal visibility), re-run, cancel, rejections. */
import { WorkflowFailedError, type Client, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { activateAudience } from '../../../workflows/activate-audience';
import { progressQuery } from '../../../workflows/messages';
import type { ActivationInput, ActivationProgress, ActivationSummary, AudienceRef } from '../../../workflows/types';
import { addCounts, type DeliveryCounts } from '../../delivery/counts';
import type { Config } from '../../config';
import { EXIT_MISSING_NEEDS_MEMORY, LISTS_NEED_MEMORY } from '../../dataflow/change';
import { AppError } from '../../errors';
import { Failure } from '../../failures';
import type { SourceRef } from '../../members/types';
import type { Services } from '../../runtime/services';
import type { ActivationRecord } from '../../store/activations';
import { ActivationStatusKey, AudienceIdKey, DestinationIdKey, SyncIdKey } from '../../temporal/search-attributes';
import { newActivationId } from '../../util/ids';
import {
  ActivationListItem,
  ActivationListQuery,
  ActivationStarted,
  ActivationView,
  ErrorBody,
  IdParams,
  RejectionsQuery,
  RejectionView,
  PlanLineView,
  PlanQuery,
  RerunBody,
  StartActivationBody,
} from '../schemas';
import type { ApiDeps, TypedApp } from '../app-types';
import { isNotFound, webUiUrl } from '../temporal-calls';
import { escapeMarkdown } from '../../../workflows/markdown';

const tags = ['activations'];
const ACTIVATION_WORKFLOW_TYPE = 'activateAudience';

/** Starts one activation run; shared by POST /activations and /rerun. */
export async function startActivation(
  deps: { client: Client; config: Config; services: Services },
  record: Omit<ActivationRecord, 'id' | 'createdAt'>,
  destinationName: string,
  run: { syncId?: string } = {},
): Promise<{ activationId: string; workflowId: string; runId: string; webUiUrl: string }> {
  const activationId = newActivationId();
  // One slot per listed audience: a run holds them all, or none (the ones claimed are given back).
  const claimed: string[] = [];
  const release = () =>
    Promise.all(
      claimed.map((id) => deps.services.activations.slots.release(record.destinationId, id, activationId).catch(() => undefined)),
    );
  try {
    for (const a of record.audiences ?? [record.audience]) {
      await claimRunSlot(deps, record.destinationId, a.id, activationId);
      claimed.push(a.id);
    }
    return await startClaimed(deps, activationId, record, destinationName, run.syncId);
  } catch (err) {
    await release();
    throw err;
  }
}

/** `audiences` or `audience` of a request, as the record keeps them: a list only when it holds several. */
function audiencesOfBody(body: { audience?: AudienceRef; audiences?: AudienceRef[] }): Pick<ActivationRecord, 'audience' | 'audiences'> {
  const list = body.audiences ?? [body.audience!];
  // A list-encoded audience is kept in `audiences` even alone: the activations row stores id and name only.
  const keepList = list.length > 1 || list.some((a) => a.encoding !== undefined && a.encoding !== 'property');
  return keepList ? { audience: list[0], audiences: list } : { audience: list[0] };
}

/** How long a claimed slot whose workflow does not exist yet counts as "starting" (then as abandoned). */
const STARTING_GRACE_MS = 60_000;

/**
 * One run per destination × audience (docs/decisions.md): claims the pair's slot in the store, taking it
 * over only when Temporal says its holder is no longer running; else 409 naming the running activation.
 */
async function claimRunSlot(deps: { client: Client; services: Services }, destinationId: string, audienceId: string, activationId: string) {
  const claim = await deps.services.activations.slots.claim(destinationId, audienceId, activationId, async (holder) => {
    try {
      return (await deps.client.workflow.getHandle(holder.activationId).describe()).status.name !== 'RUNNING';
    } catch (err) {
      // Claimed and not started yet, or abandoned by an API process that died in between.
      if (isNotFound(err)) return Date.now() - holder.claimedAt > STARTING_GRACE_MS;
      throw err;
    }
  });
  if (!claim.ok) {
    const running = claim.holder.activationId;
    throw new AppError(
      'CONFLICT',
      `Audience ${audienceId} is already being activated on destination ${destinationId} by activation ${running}. Wait for it to finish or cancel it (POST /v1/activations/${running}/cancel), then start again.`,
      { details: { runningActivationId: running, destinationId, audienceId } },
    );
  }
}

async function startClaimed(
  deps: { client: Client; config: Config; services: Services },
  activationId: string,
  record: Omit<ActivationRecord, 'id' | 'createdAt'>,
  destinationName: string,
  syncId?: string,
): Promise<{ activationId: string; workflowId: string; runId: string; webUiUrl: string }> {
  if (record.options?.exitMissing && !deps.config.worker.contactMemory) throw new AppError('BAD_REQUEST', EXIT_MISSING_NEEDS_MEMORY);
  const listed = record.audiences ?? [record.audience];
  if (listed.some((a) => a.encoding === 'list' || a.encoding === 'both') && !deps.config.worker.contactMemory)
    throw new AppError('BAD_REQUEST', LISTS_NEED_MEMORY);
  await deps.services.activations.insert({ ...record, id: activationId, createdAt: new Date().toISOString() });
  const input: ActivationInput = {
    ...activationInput(deps.config, { ...record, id: activationId }),
    ...(syncId ? { syncId } : {}),
  };
  const handle = await deps.client.workflow.start(activateAudience, {
    taskQueue: deps.config.temporal.taskQueue,
    workflowId: activationId,
    args: [input],
    typedSearchAttributes: [
      { key: DestinationIdKey, value: record.destinationId },
      { key: AudienceIdKey, value: record.audience.id },
      { key: ActivationStatusKey, value: 'Running' },
      ...(syncId ? [{ key: SyncIdKey, value: syncId }] : []),
    ],
    // The Web UI renders these as Markdown: names and paths are escaped (no images or links).
    staticSummary: `Activate ${record.audiences ? `${record.audiences.length} audiences` : `audience "${escapeMarkdown(record.audience.name)}"`} → ${escapeMarkdown(destinationName)}${record.rerunOf ? ` (re-run ${record.rerunMode} of ${record.rerunOf})` : ''}`,
    staticDetails: [
      `Destination: \`${record.destinationId}\` (${escapeMarkdown(destinationName)})`,
      ...(record.audiences ?? [record.audience]).map((a) => `Audience: \`${a.id}\` (${escapeMarkdown(a.name)})`),
      `Source: ${escapeMarkdown(describeSource(record.source))}`,
      syncId ? `Sync: \`${syncId}\` (triggered)` : '',
      record.rerunOf ? `Re-run (${record.rerunMode}) of \`${record.rerunOf}\`` : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
  });
  return {
    activationId,
    workflowId: handle.workflowId,
    runId: handle.firstExecutionRunId,
    webUiUrl: webUiUrl(deps.config, handle.workflowId, handle.firstExecutionRunId),
  };
}

/** The workflow input of a run (the worker's tuning from this API's config); `id` '' for a schedule's runs. */
export function activationInput(config: Config, record: Omit<ActivationRecord, 'createdAt'>): ActivationInput {
  const w = config.worker;
  return {
    activationId: record.id,
    destinationId: record.destinationId,
    audience: record.audience,
    ...(record.audiences ? { audiences: record.audiences } : {}),
    source: record.source,
    rerunOf: record.rerunOf,
    options: {
      ...(record.options?.fullResync ? { fullResync: true } : {}),
      ...(record.options?.exitMissing ? { exitMissing: true } : {}),
      ...(record.options?.dryRun ? { dryRun: true } : {}),
      ...(record.options?.mode ? { mode: record.options.mode } : {}),
      ...(record.options?.maxRejectedPercent !== undefined ? { maxRejectedPercent: record.options.maxRejectedPercent } : {}),
      ...(record.options?.guardMinRecords !== undefined ? { guardMinRecords: record.options.guardMinRecords } : {}),
      pageSize: w.pageSize,
      upsertConcurrency: w.upsertConcurrency,
      pagesPerActivity: w.pagesPerActivity,
      activityMaxMillis: w.activityMaxMillis,
      heartbeatTimeoutMs: w.heartbeatTimeoutMs,
      maxHistoryEvents: w.maxHistoryEvents,
    },
  };
}

export function describeSource(s: SourceRef): string {
  if (s.kind === 'upload') return `upload \`${s.uploadId}\``;
  if (s.kind === 'path') return `file \`${s.path}\``;
  if (s.kind === 'sql') return `query on connection \`${s.connectionId}\`${s.key ? ` (key \`${s.key}\`)` : ''}`;
  return `rejected members of \`${s.activationId}\``;
}

type SourceBody = { uploadId: string } | { path: string } | { sql: { connectionId: string; query: string; key?: string } };

export function toSourceRef(source: SourceBody): SourceRef {
  if ('uploadId' in source) return { kind: 'upload', uploadId: source.uploadId };
  if ('sql' in source)
    return {
      kind: 'sql',
      connectionId: source.sql.connectionId,
      query: source.sql.query,
      ...(source.sql.key ? { key: source.sql.key } : {}),
    };
  return { kind: 'path', path: source.path };
}

/** A source the API can check before a run: its upload or its connection exists. */
export async function assertSourceExists(services: Services, source: SourceRef): Promise<void> {
  if (source.kind === 'upload' && !(await services.uploads.info(source.uploadId)))
    throw new AppError('NOT_FOUND', `Upload ${source.uploadId} does not exist. Upload the file first (POST /v1/uploads).`);
  if (source.kind === 'sql' && !(await services.connections.get(source.connectionId)))
    throw new AppError(
      Failure.SourceConnectionNotFound,
      `Connection ${source.connectionId} does not exist. Add it first (POST /v1/connections) or configure it in SOURCE_CONNECTIONS.`,
    );
}

type ActivationViewT = z.infer<typeof ActivationView>;

/**
 * The workflow learns counts when a page activity reports back (every few seconds, longer when HubSpot's
 * budget paces it); the store's progress view is current to the last batch. Live counts add it.
 */
async function liveCounts(services: Services, activationId: string, progress: ActivationProgress): Promise<DeliveryCounts> {
  if (!progress.activityCursor) return progress.counts;
  const running = await services.activationProgress.activationProgress(activationId, progress.activityCursor.offset).catch(() => undefined);
  return running ? addCounts(progress.counts, running) : progress.counts;
}

/** An activation's workflow; 404 for unknown ids and for workflows that are not activations (configure, stream, alerts). */
async function describeActivation(client: Client, id: string): Promise<{ handle: WorkflowHandle; desc: WorkflowExecutionDescription }> {
  const handle = client.workflow.getHandle(id);
  let desc: WorkflowExecutionDescription;
  try {
    desc = await handle.describe();
  } catch (err) {
    if (isNotFound(err)) throw new AppError('NOT_FOUND', `Activation ${id} does not exist.`);
    throw err;
  }
  if (desc.type !== ACTIVATION_WORKFLOW_TYPE) throw new AppError('NOT_FOUND', `Activation ${id} does not exist.`);
  return { handle, desc };
}

interface ClosedRun {
  counts: DeliveryCounts;
  pagesDone: number;
  totalRecords?: number;
}

function closedRunOf(desc: WorkflowExecutionDescription): ClosedRun | undefined {
  const closed = desc.memo?.closedRun as Partial<ClosedRun> | undefined;
  return closed && typeof closed === 'object' && closed.counts && typeof closed.pagesDone === 'number' ? (closed as ClosedRun) : undefined;
}

async function readActivation(deps: ApiDeps, id: string): Promise<ActivationViewT> {
  const { handle, desc } = await describeActivation(deps.client, id);
  const record = await deps.services.activations.get(id);
  const sa = desc.typedSearchAttributes;
  const base: ActivationViewT = {
    activationId: id,
    destinationId: record?.destinationId ?? sa.get(DestinationIdKey) ?? '',
    audience: record?.audience ?? { id: sa.get(AudienceIdKey) ?? '', name: '' },
    ...(record?.audiences ? { audiences: record.audiences } : {}),
    status: 'unknown',
    ...(record?.rerunOf ? { rerunOf: record.rerunOf } : {}),
    ...(sa.get(SyncIdKey) ? { syncId: sa.get(SyncIdKey) } : {}),
    startedAt: desc.startTime.toISOString(),
    ...(desc.closeTime ? { closedAt: desc.closeTime.toISOString() } : {}),
    webUiUrl: webUiUrl(deps.config, id, desc.runId),
  };
  // Cancelled and failed runs record exactly what they wrote in the memo `closedRun` (workflows/activate-audience.ts).
  const closed = closedRunOf(desc);
  const closedProgress = closed
    ? { progress: { pagesDone: closed.pagesDone, totalRecords: closed.totalRecords, counts: closed.counts } }
    : {};
  switch (desc.status.name) {
    case 'RUNNING': {
      const progress = await handle.query(progressQuery).catch(() => undefined);
      if (!progress) return { ...base, status: 'running' };
      const counts = await liveCounts(deps.services, id, progress);
      return {
        ...base,
        status: progress.phase === 'waiting-daily-limit' ? 'waiting' : 'running',
        phase: progress.phase,
        startedAt: progress.startedAt,
        progress: {
          pagesDone: progress.pagesDone,
          totalRecords: progress.totalRecords,
          counts,
          waitingUntil: progress.waitingUntil,
          waitReason: progress.waitReason,
        },
      };
    }
    case 'COMPLETED': {
      const summary = (await handle.result()) as ActivationSummary;
      return { ...base, status: summary.status, phase: 'completed', summary };
    }
    case 'FAILED': {
      try {
        await handle.result();
      } catch (err) {
        const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
        return {
          ...base,
          status: 'failed',
          ...closedProgress,
          failure: { type: (cause as { type?: string } | undefined)?.type, message: cause?.message ?? (err as Error).message },
        };
      }
      return { ...base, status: 'failed', ...closedProgress };
    }
    case 'CANCELLED':
      return { ...base, status: 'cancelled', ...closedProgress };
    case 'TERMINATED':
      return { ...base, status: 'terminated' };
    case 'TIMED_OUT':
      return { ...base, status: 'timed_out' };
    default:
      return base;
  }
}

function escapeQueryValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}

export function registerActivationRoutes(app: TypedApp, deps: ApiDeps): void {
  const { client, services } = deps;

  app.post(
    '/v1/destinations/:id/activations',
    {
      schema: {
        tags,
        summary:
          'Activate an audience on a destination (answers 202; follow it with GET /v1/activations/:id; 409 while that audience runs on it)',
        params: IdParams,
        body: StartActivationBody,
        response: { 202: ActivationStarted, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const d = await services.destinations.get(req.params.id);
      if (!d) throw new AppError('NOT_FOUND', `Destination ${req.params.id} does not exist.`);
      const source = toSourceRef(req.body.source);
      await assertSourceExists(services, source);
      // The destination's default guard bound applies to runs that do not set one.
      const defaults = await services.runDefaults.get(d.id);
      const options =
        defaults?.maxRejectedPercent !== undefined && req.body.options?.maxRejectedPercent === undefined
          ? { ...req.body.options, maxRejectedPercent: defaults.maxRejectedPercent }
          : req.body.options;
      const started = await startActivation(
        deps,
        { destinationId: d.id, ...audiencesOfBody(req.body), source, ...(options && Object.keys(options).length ? { options } : {}) },
        d.name,
      );
      return reply.status(202).send(started);
    },
  );

  app.get(
    '/v1/activations/:id',
    {
      schema: {
        tags,
        summary: 'Status, live progress and summary of an activation',
        params: IdParams,
        response: { 200: ActivationView, 404: ErrorBody },
      },
    },
    async (req) => readActivation(deps, req.params.id),
  );

  app.get(
    '/v1/activations',
    {
      schema: {
        tags,
        summary: 'Activations from Temporal visibility, filtered by destination, audience and status',
        querystring: ActivationListQuery,
        response: { 200: z.object({ items: z.array(ActivationListItem) }) },
      },
    },
    async (req) => {
      const clauses = [`WorkflowType = '${ACTIVATION_WORKFLOW_TYPE}'`];
      if (req.query.destinationId) clauses.push(`DestinationId = '${escapeQueryValue(req.query.destinationId)}'`);
      if (req.query.audienceId) clauses.push(`AudienceId = '${escapeQueryValue(req.query.audienceId)}'`);
      if (req.query.status) clauses.push(`ActivationStatus = '${req.query.status}'`);
      const items: z.infer<typeof ActivationListItem>[] = [];
      for await (const wf of client.workflow.list({ query: clauses.join(' AND '), pageSize: Math.min(req.query.limit, 1000) })) {
        items.push({
          activationId: wf.workflowId,
          destinationId: wf.typedSearchAttributes.get(DestinationIdKey),
          audienceId: wf.typedSearchAttributes.get(AudienceIdKey),
          status: wf.typedSearchAttributes.get(ActivationStatusKey),
          executionStatus: wf.status.name,
          startedAt: wf.startTime.toISOString(),
          ...(wf.closeTime ? { closedAt: wf.closeTime.toISOString() } : {}),
        });
        if (items.length >= req.query.limit) break;
      }
      return { items };
    },
  );

  app.post(
    '/v1/activations/:id/rerun',
    {
      schema: {
        tags,
        summary: 'Re-run an activation as a new run: all members again, or only the previously rejected ones',
        params: IdParams,
        body: RerunBody.optional(),
        response: { 202: ActivationStarted, 404: ErrorBody, 409: ErrorBody, 410: ErrorBody },
      },
    },
    async (req, reply) => {
      const mode = req.body?.mode ?? 'all';
      const dryRun = req.body?.dryRun;
      const record = await services.activations.get(req.params.id);
      if (!record) throw new AppError('NOT_FOUND', `Activation ${req.params.id} does not exist.`);
      // The store still has the run, Temporal no longer does: it closed longer ago than the namespace retention.
      const { desc } = await describeActivation(client, record.id).catch((err: unknown) => {
        if (err instanceof AppError && err.status === 404)
          throw new AppError(
            Failure.Gone,
            `Activation ${record.id} closed longer ago than the Temporal namespace retention and its run is gone, so it cannot be re-run. Start a new activation (POST /v1/activations) with the same source.`,
          );
        throw err;
      });
      if (desc.status.name === 'RUNNING')
        throw new AppError('CONFLICT', `Activation ${record.id} is still running; cancel it or wait for it to finish before re-running.`);
      const d = await services.destinations.get(record.destinationId);
      if (!d) throw new AppError('NOT_FOUND', `Destination ${record.destinationId} no longer exists.`);
      const source: SourceRef = mode === 'rejected' ? { kind: 'rejections', activationId: record.id } : record.source;
      const started = await startActivation(
        deps,
        {
          destinationId: d.id,
          audience: record.audience,
          ...(record.audiences ? { audiences: record.audiences } : {}),
          ...(record.options || dryRun !== undefined
            ? { options: { ...record.options, ...(dryRun !== undefined ? { dryRun } : {}) } }
            : {}),
          source,
          rerunOf: record.id,
          rerunMode: mode,
        },
        d.name,
      );
      return reply.status(202).send(started);
    },
  );

  app.post(
    '/v1/activations/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a running activation',
        params: IdParams,
        response: { 202: z.object({ activationId: z.string(), status: z.literal('cancelling') }), 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const { handle, desc } = await describeActivation(client, req.params.id);
      if (desc.status.name !== 'RUNNING')
        throw new AppError('CONFLICT', `Activation ${req.params.id} is not running (${desc.status.name.toLowerCase()}).`);
      await handle.cancel();
      return reply.status(202).send({ activationId: req.params.id, status: 'cancelling' as const });
    },
  );

  app.get(
    '/v1/activations/:id/rejections',
    {
      schema: {
        tags,
        summary: 'Rejected members of an activation run, with their reasons, in pages',
        params: IdParams,
        querystring: RejectionsQuery,
        response: { 200: z.object({ items: z.array(RejectionView), next: z.number().optional() }), 404: ErrorBody },
      },
    },
    async (req) => {
      if (!(await services.activations.get(req.params.id))) throw new AppError('NOT_FOUND', `Activation ${req.params.id} does not exist.`);
      const rows = await services.rejections.page(req.params.id, req.query.after, req.query.limit);
      return {
        items: rows.map((r) => ({ seq: r.seq, line: r.line, email: r.email, reason: r.reason, createdAt: r.createdAt })),
        ...(rows.length === req.query.limit ? { next: rows[rows.length - 1].seq } : {}),
      };
    },
  );

  app.get(
    '/v1/activations/:id/plan',
    {
      schema: {
        tags,
        summary: "A dry run's plan, one line per member (would create, update with old → new values, unchanged, skip, reject), in pages",
        params: IdParams,
        querystring: PlanQuery,
        response: { 200: z.object({ items: z.array(PlanLineView), next: z.number().optional() }), 404: ErrorBody },
      },
    },
    async (req) => {
      const record = await services.activations.get(req.params.id);
      if (!record) throw new AppError('NOT_FOUND', `Activation ${req.params.id} does not exist.`);
      const rows = await services.plans.page(req.params.id, req.query.after, req.query.limit);
      return { items: rows, ...(rows.length === req.query.limit ? { next: rows[rows.length - 1].seq } : {}) };
    },
  );
}
