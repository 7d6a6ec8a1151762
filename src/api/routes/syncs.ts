/**
 * Syncs: an activation on a schedule (docs/syncs.md). Each sync is a record in the store and a Temporal
 * Schedule of the same id whose action starts the ordinary activation workflow (`activateAudience`), so
 * every run is an activation like any other — inspectable, listable by `SyncId`, re-runnable. Scheduled
 * runs record themselves and claim their audiences in their first step (activities/syncs.ts); a trigger
 * starts a run here, as POST /activations does.
 *
 * Schedule policies: overlap BUFFER_ONE (a run due while the previous one still runs waits for it; at
 * most one waits), catch-up window one hour (runs missed during a longer outage are not made up).
 */
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleHandle,
  type ScheduleOptionsAction,
  type ScheduleSpec,
} from '@temporalio/client';
import { z } from 'zod';
import { activateAudience } from '../../../workflows/activate-audience';
import { escapeMarkdown } from '../../../workflows/markdown';
import { usesList } from '../../../workflows/types';
import { AppError } from '../../errors';
import type { SourceRef } from '../../members/types';
import type { SyncRecord, SyncSchedule } from '../../store/syncs';
import { ActivationStatusKey, AudienceIdKey, DestinationIdKey, SyncIdKey } from '../../temporal/search-attributes';
import { newSyncId } from '../../util/ids';
import { ActivationStarted, ErrorBody, IdParams } from '../schemas';
import { CreateSyncBody, SyncRunView, SyncViewSchema, UpdateSyncBody } from '../sync-schemas';
import type { ApiDeps, TypedApp } from '../app-types';
import { activationInput, assertSourceExists, describeSource, startActivation, toSourceRef } from './activations';

const tags = ['syncs'];
/** Runs missed while Temporal was down are made up only within this window. */
export const SYNC_CATCHUP_WINDOW = '1 hour';
const RECENT_RUNS = 10;

function specOf(schedule: SyncSchedule): ScheduleSpec {
  if ('every' in schedule) return { intervals: [{ every: schedule.every as `${number}s` }] };
  return { cronExpressions: [schedule.cron], ...(schedule.timeZone ? { timezone: schedule.timeZone } : {}) };
}

/** The schedule's action: an ordinary activation run, its id left to the workflow (schedule id + time). */
function actionOf(deps: ApiDeps, sync: SyncRecord, destinationName: string): ScheduleOptionsAction {
  const [audience, ...more] = sync.audiences;
  const input = {
    ...activationInput(deps.config, {
      id: '',
      destinationId: sync.destinationId,
      audience,
      ...(more.length || sync.audiences.some(usesList) ? { audiences: sync.audiences } : {}),
      source: sync.source,
      ...(sync.options ? { options: sync.options } : {}),
    }),
    syncId: sync.id,
  };
  return {
    type: 'startWorkflow',
    workflowType: activateAudience,
    taskQueue: deps.config.temporal.taskQueue,
    // Temporal appends the scheduled time: each run's workflow id (= activation id) is `<sync id>-<time>`.
    workflowId: sync.id,
    args: [input],
    typedSearchAttributes: [
      { key: DestinationIdKey, value: sync.destinationId },
      { key: AudienceIdKey, value: audience.id },
      { key: ActivationStatusKey, value: 'Running' },
      { key: SyncIdKey, value: sync.id },
    ],
    staticSummary: `Sync "${escapeMarkdown(sync.name)}": ${sync.audiences.length > 1 ? `${sync.audiences.length} audiences` : `audience "${escapeMarkdown(audience.name)}"`} → ${escapeMarkdown(destinationName)}`,
    staticDetails: [
      `Sync: \`${sync.id}\` (${escapeMarkdown(sync.name)}), scheduled run`,
      `Destination: \`${sync.destinationId}\` (${escapeMarkdown(destinationName)})`,
      ...sync.audiences.map((a) => `Audience: \`${a.id}\` (${escapeMarkdown(a.name)})`),
      `Source: ${escapeMarkdown(describeSource(sync.source))}`,
    ].join('\n\n'),
  };
}

function memoOf(sync: SyncRecord, destinationName: string): Record<string, unknown> {
  return {
    syncName: sync.name,
    destinationId: sync.destinationId,
    destinationName,
    audiences: sync.audiences.map((a) => a.id),
  };
}

/** Temporal's refusal of a schedule (a bad cron expression or time zone) as a 400. */
function scheduleRefused(err: unknown): never {
  const e = err as { code?: number; details?: string; message?: string };
  if (e.code === 3) throw new AppError('VALIDATION_FAILED', `Temporal refused the schedule: ${e.details ?? e.message}`);
  throw err;
}

async function describeSchedule(client: Client, id: string) {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

async function recentRuns(client: Client, syncId: string) {
  const runs: Array<z.infer<typeof SyncRunView>> = [];
  for await (const wf of client.workflow.list({
    query: `SyncId = '${syncId.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
    pageSize: RECENT_RUNS,
  })) {
    runs.push({
      activationId: wf.workflowId,
      status: wf.typedSearchAttributes.get(ActivationStatusKey),
      executionStatus: wf.status.name,
      startedAt: wf.startTime.toISOString(),
      ...(wf.closeTime ? { closedAt: wf.closeTime.toISOString() } : {}),
    });
    if (runs.length >= RECENT_RUNS) break;
  }
  return runs;
}

async function viewOf(deps: ApiDeps, sync: SyncRecord, detail: boolean): Promise<z.infer<typeof SyncViewSchema>> {
  const desc = await describeSchedule(deps.client, sync.id);
  const source = sourceView(sync.source);
  return {
    id: sync.id,
    name: sync.name,
    destinationId: sync.destinationId,
    audiences: sync.audiences,
    source,
    schedule: sync.schedule,
    ...(sync.options ? { options: sync.options } : {}),
    ...(desc ? { paused: desc.state.paused, nextRunTimes: desc.info.nextActionTimes.slice(0, 5).map((d) => d.toISOString()) } : {}),
    ...(detail ? { recentRuns: await recentRuns(deps.client, sync.id) } : {}),
    createdAt: sync.createdAt,
    updatedAt: sync.updatedAt,
  };
}

/** A source as requests give it. */
function sourceView(s: SourceRef): unknown {
  if (s.kind === 'path') return { path: s.path };
  if (s.kind === 'sql') return { sql: { connectionId: s.connectionId, query: s.query, ...(s.key ? { key: s.key } : {}) } };
  return s;
}

export function registerSyncRoutes(app: TypedApp, deps: ApiDeps): void {
  const { client, services } = deps;

  async function load(id: string): Promise<SyncRecord> {
    const sync = await services.syncs.get(id);
    if (!sync) throw new AppError('NOT_FOUND', `Sync ${id} does not exist.`);
    return sync;
  }

  async function destinationName(id: string): Promise<string> {
    const d = await services.destinations.get(id);
    if (!d) throw new AppError('NOT_FOUND', `Destination ${id} no longer exists.`);
    return d.name;
  }

  async function scheduleHandle(sync: SyncRecord): Promise<ScheduleHandle> {
    const handle = client.schedule.getHandle(sync.id);
    if (!(await describeSchedule(client, sync.id)))
      throw new AppError('NOT_FOUND', `The Temporal Schedule of sync ${sync.id} is gone; delete the sync and create it again.`);
    return handle;
  }

  app.post(
    '/v1/destinations/:id/syncs',
    {
      schema: {
        tags,
        summary:
          'Sync audiences from a query or a file on a schedule ({every: "1h"} or {cron, timeZone?}): a Temporal Schedule of activations',
        params: IdParams,
        body: CreateSyncBody,
        response: { 201: SyncViewSchema, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const d = await services.destinations.get(req.params.id);
      if (!d) throw new AppError('NOT_FOUND', `Destination ${req.params.id} does not exist.`);
      const source = toSourceRef(req.body.source);
      await assertSourceExists(services, source);
      const now = new Date().toISOString();
      const sync: SyncRecord = {
        id: newSyncId(),
        name: req.body.name,
        destinationId: d.id,
        audiences: req.body.audiences,
        source,
        schedule: req.body.schedule,
        ...(req.body.options && Object.keys(req.body.options).length ? { options: req.body.options } : {}),
        createdAt: now,
        updatedAt: now,
      };
      await services.syncs.insert(sync);
      try {
        await client.schedule.create({
          scheduleId: sync.id,
          spec: specOf(sync.schedule),
          action: actionOf(deps, sync, d.name),
          policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: SYNC_CATCHUP_WINDOW, pauseOnFailure: false },
          memo: memoOf(sync, d.name),
          typedSearchAttributes: [
            { key: DestinationIdKey, value: d.id },
            { key: SyncIdKey, value: sync.id },
          ],
        });
      } catch (err) {
        await services.syncs.delete(sync.id).catch(() => undefined);
        scheduleRefused(err);
      }
      return reply.status(201).send(await viewOf(deps, sync, false));
    },
  );

  app.get(
    '/v1/syncs',
    {
      schema: {
        tags,
        summary: 'Syncs, with their schedule state and next run times',
        querystring: z.strictObject({ destinationId: z.string().max(200).optional() }),
        response: { 200: z.object({ items: z.array(SyncViewSchema) }) },
      },
    },
    async (req) => {
      const syncs = await services.syncs.list(req.query.destinationId ? { destinationId: req.query.destinationId } : {});
      return { items: await Promise.all(syncs.map((s) => viewOf(deps, s, false))) };
    },
  );

  app.get(
    '/v1/syncs/:id',
    {
      schema: {
        tags,
        summary: 'A sync with its recent runs (activations) and next run times',
        params: IdParams,
        response: { 200: SyncViewSchema, 404: ErrorBody },
      },
    },
    async (req) => viewOf(deps, await load(req.params.id), true),
  );

  app.patch(
    '/v1/syncs/:id',
    {
      schema: {
        tags,
        summary: 'Change a sync (name, audiences, source or query, schedule, options); the next runs use it',
        params: IdParams,
        body: UpdateSyncBody,
        response: { 200: SyncViewSchema, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const cur = await load(req.params.id);
      const b = req.body;
      const source = b.source ? toSourceRef(b.source) : cur.source;
      if (b.source) await assertSourceExists(services, source);
      const next: SyncRecord = {
        ...cur,
        ...(b.name ? { name: b.name } : {}),
        ...(b.audiences ? { audiences: b.audiences } : {}),
        ...(b.schedule ? { schedule: b.schedule } : {}),
        ...(b.options ? { options: b.options } : {}),
        source,
        updatedAt: new Date().toISOString(),
      };
      const name = await destinationName(cur.destinationId);
      const handle = await scheduleHandle(cur);
      await handle
        .update((prev) => ({ ...prev, spec: specOf(next.schedule), action: actionOf(deps, next, name) }))
        .catch((err: unknown) => scheduleRefused(err));
      await services.syncs.update(next);
      return viewOf(deps, next, false);
    },
  );

  app.post(
    '/v1/syncs/:id/trigger',
    {
      schema: {
        tags,
        summary: 'Run a sync now (an activation like the scheduled ones; 409 while one of its audiences runs)',
        params: IdParams,
        response: { 202: ActivationStarted, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const sync = await load(req.params.id);
      const name = await destinationName(sync.destinationId);
      const [audience, ...more] = sync.audiences;
      const started = await startActivation(
        deps,
        {
          destinationId: sync.destinationId,
          audience,
          ...(more.length || sync.audiences.some(usesList) ? { audiences: sync.audiences } : {}),
          source: sync.source,
          ...(sync.options ? { options: sync.options } : {}),
        },
        name,
        { syncId: sync.id },
      );
      return reply.status(202).send(started);
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/v1/syncs/:id/${action}`,
      {
        schema: {
          tags,
          summary: action === 'pause' ? 'Pause a sync: no scheduled run starts until it is resumed' : 'Resume a paused sync',
          params: IdParams,
          response: { 200: SyncViewSchema, 404: ErrorBody },
        },
      },
      async (req) => {
        const sync = await load(req.params.id);
        const handle = await scheduleHandle(sync);
        if (action === 'pause') await handle.pause('Paused through the API');
        else await handle.unpause('Resumed through the API');
        return viewOf(deps, sync, false);
      },
    );
  }

  app.delete(
    '/v1/syncs/:id',
    {
      schema: {
        tags,
        summary: 'Delete a sync and its Temporal Schedule (runs under way finish; their activations stay)',
        params: IdParams,
        response: { 204: z.null(), 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const sync = await load(req.params.id);
      try {
        await client.schedule.getHandle(sync.id).delete();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
      await services.syncs.delete(sync.id);
      return reply.status(204).send(null);
    },
  );
}
