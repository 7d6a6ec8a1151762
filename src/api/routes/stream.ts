/**
 * Streaming: profile updates in (answered 202 once Temporal holds them), the stream's stats, pause and
 * resume, per-destination settings, and the rejections of streamed updates.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { configureStreamSignal, pauseStreamSignal, resumeStreamSignal } from '../../../workflows/messages';
import { AppError } from '../../errors';
import { reduceProfile } from '../../streaming/reduce';
import { refKey } from '../../streaming/ingest-log';
import { MAX_SIGNAL_DELAY_MS } from '../../streaming/orphans';
import { StreamSignalSender, type LoggedUpdate, type StreamTarget } from '../../streaming/signal-sender';
import { BacklogGauge, readStreamStats, type Backlog } from '../../streaming/stream-stats';
import { emptyStreamCounters, MAX_UPDATE_CHARS, streamRejectionsId, streamWorkflowId, type StreamUpdate } from '../../streaming/types';
import { ErrorBody, IdParams, RejectionsQuery, RejectionView } from '../schemas';
import type { ApiDeps, TypedApp } from '../app-types';
import {
  MAX_PROFILES_PER_REQUEST,
  ProfilesAccepted,
  ProfilesBody,
  StreamControlAccepted,
  StreamSettingsBody,
  StreamStatsView,
} from '../stream-schemas';
import { webUiUrl } from '../temporal-calls';
import { StreamTargets, type StreamTargetRecord } from '../stream-targets';

const tags = ['streaming'];

/**
 * A run's history only grows past Temporal's continue-as-new suggestion (4,096 events / 4 MiB) when no
 * worker processes it; Temporal terminates a run at 51,200 events or 50 MB. Refuse updates long before.
 */
const MAX_UNPROCESSED_HISTORY_EVENTS = 20_000;
const MAX_UNPROCESSED_HISTORY_BYTES = 20 * 1024 * 1024;

/** Why the stream cannot take more now (a message for the 429), or undefined. */
function backlogProblem(b: Backlog | undefined, limits: { maxBuffered: number; maxBufferedBytes: number }): string | undefined {
  if (!b) return undefined;
  if (b.historyLength >= MAX_UNPROCESSED_HISTORY_EVENTS || b.historyBytes >= MAX_UNPROCESSED_HISTORY_BYTES) {
    return `has ${b.historyLength} unprocessed history events (${b.historyBytes} bytes): no worker is processing it. Start a worker (\`npm run worker\`), then retry`;
  }
  if ((b.updates ?? 0) >= limits.maxBuffered || (b.bytes ?? 0) >= limits.maxBufferedBytes) {
    return `holds ${b.updates} unsent updates (${b.bytes} bytes; limits ${limits.maxBuffered} updates, ${limits.maxBufferedBytes} bytes): it is paused or HubSpot is not keeping up. Retry later`;
  }
  return undefined;
}

/**
 * How soon a refused request may find room (the `Retry-After-Ms` hint of a 429): the time the stream
 * needs to send what is above the bound plus this request at HubSpot's highest ceiling (2,500 contacts/s,
 * 2.5 a millisecond), 100 ms to 1 s. A stream no worker processes: 1 s. An estimate, not a promise: a
 * client retrying early is refused again, nothing else.
 */
export function retryAfterMs(b: Backlog | undefined, incoming: number, maxBuffered: number): number {
  if (!b || b.updates === undefined || b.historyLength >= MAX_UNPROCESSED_HISTORY_EVENTS || b.historyBytes >= MAX_UNPROCESSED_HISTORY_BYTES)
    return 1000;
  const excess = b.updates + incoming - maxBuffered;
  return Math.min(1000, Math.max(100, Math.ceil(excess / 2.5)));
}

/** The 429 of a full stream (throws). */
function refuseFull(reply: FastifyReply, destinationId: string, problem: string, hintMs: number): never {
  // A full backlog (4,000 updates) drains in under 2 s at HubSpot's highest ceiling: retry soon.
  // HTTP's Retry-After has whole seconds only; Retry-After-Ms says how soon room is expected.
  reply.header('retry-after', '1');
  reply.header('retry-after-ms', String(hintMs));
  throw new AppError('STREAM_BACKLOG_FULL', `The stream of destination ${destinationId} ${problem}; nothing from this request was taken.`, {
    retryable: true,
  });
}

/** The signal returned after MAX_SIGNAL_DELAY_MS (src/streaming/orphans.ts): answered like a refused one. */
class SignalTooSlow extends Error {
  override name = 'SignalTooSlow';
}

function temporalRefused(err: unknown): AppError {
  return new AppError('TEMPORAL_UNAVAILABLE', 'Temporal did not accept the updates, so none of them were taken; retry the request.', {
    retryable: true,
    details: { reason: (err as Error)?.name ?? 'Error' },
  });
}

export function registerStreamRoutes(app: TypedApp, deps: ApiDeps): void {
  const { client, config, services } = deps;
  const sender = new StreamSignalSender({
    client,
    taskQueue: config.temporal.taskQueue,
    inFlight: config.stream.signalsInFlight,
    minIntervalMs: config.stream.signalMinIntervalMs,
    holds: services.streamHolds,
    defaults: {
      maxLatencyMs: config.stream.maxLatencyMs,
      batchSize: config.stream.batchSize,
      maxConcurrentFlushes: config.stream.maxConcurrentFlushes,
      maxHistoryEvents: config.stream.maxHistoryEvents,
      heartbeatTimeoutMs: config.stream.heartbeatTimeoutMs,
      lagAlertMs: config.stream.lagAlertMs,
    },
  });
  const backlog = new BacklogGauge(client);

  const targets = deps.streamTargets ?? new StreamTargets(services.destinations);
  async function target(id: string): Promise<StreamTargetRecord> {
    const t = await targets.get(id);
    if (!t) throw new AppError('NOT_FOUND', `Destination ${id} does not exist.`);
    return t;
  }

  app.post(
    '/v1/destinations/:id/profiles',
    {
      schema: {
        tags,
        summary: `Stream profile updates (one XDM profile or an array of at most ${MAX_PROFILES_PER_REQUEST}); 202 once they are durably in the destination's stream`,
        params: IdParams,
        body: ProfilesBody,
        response: { 202: ProfilesAccepted, 404: ErrorBody, 413: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
      // Every answer of this route is built here (the 202 below, AppError bodies): plain JSON, without
      // re-encoding each through zod (the schemas above still document them). The hot route of streaming.
      serializerCompiler: () => (data) => JSON.stringify(data),
      // A stream known to be over its bound refuses before the body is read and parsed: a burst's
      // clients retry 1,000-profile requests many times, and each parse cost the API ~10 ms of CPU the
      // requests it can take needed. Only what this process already knows is used (no read starts here,
      // so unknown ids cost nothing); the handler checks again, and reads, as before.
      onRequest: async (req, reply) => {
        const { id } = req.params as { id?: string };
        if (!id) return;
        const b = backlog.peek(id);
        const problem = backlogProblem(b, config.stream);
        if (!problem) return;
        refuseFull(reply, id, problem, retryAfterMs(b, 1, config.stream.maxBuffered));
      },
    },
    async (req, reply) => {
      const profiles = Array.isArray(req.body) ? req.body : [req.body];
      if (profiles.length > MAX_PROFILES_PER_REQUEST) {
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `A request carries at most ${MAX_PROFILES_PER_REQUEST} profiles; this one has ${profiles.length}. Split it into several requests.`,
          {
            details: { max: MAX_PROFILES_PER_REQUEST, received: profiles.length },
          },
        );
      }
      const t = await target(req.params.id);
      const b = backlog.backlog(t.destinationId);
      const problem = backlogProblem(b, config.stream);
      if (problem) refuseFull(reply, t.destinationId, problem, retryAfterMs(b, profiles.length, config.stream.maxBuffered));
      backlog.admit(t.destinationId, profiles.length);
      const receivedAt = Date.now();
      const updates: StreamUpdate[] = [];
      const hash = services.emailHasher;
      for (let i = 0; i < profiles.length; i++) {
        const u = reduceProfile(profiles[i], t.mapping, receivedAt);
        const size = StreamSignalSender.sizeOf(u);
        if (size > MAX_UPDATE_CHARS) {
          throw new AppError(
            'PAYLOAD_TOO_LARGE',
            `Profile ${i} holds ${size} bytes of mapped values and audience memberships (limit ${MAX_UPDATE_CHARS}); nothing from this request was taken.`,
          );
        }
        updates.push(u);
      }
      // Durable first (sealed, in the store); the stream is told only the references.
      let seqs: number[];
      try {
        seqs = await services.ingestLog.append(t.destinationId, updates);
      } catch (err) {
        req.log.warn({ err: { name: (err as Error)?.name }, destinationId: t.destinationId }, 'stream ingest log write failed');
        throw new AppError('STORE_UNAVAILABLE', 'The updates could not be stored durably, so none of them were taken; retry the request.', {
          retryable: true,
        });
      }
      try {
        const logged: LoggedUpdate[] = updates.map((u, i) => ({
          seq: seqs[i],
          key: u.x || u.e === undefined ? '' : refKey(hash, t.destinationId, u.e),
          t: u.t,
          ...(u.x ? { problem: u.x } : {}),
        }));
        await sender.send(t, logged, receivedAt);
      } catch (err) {
        req.log.warn(
          { err: { name: (err as Error)?.name, message: (err as Error)?.message }, destinationId: t.destinationId },
          'stream signal refused',
        );
        throw temporalRefused(err);
      }
      if (Date.now() - receivedAt > MAX_SIGNAL_DELAY_MS) {
        // Too late to promise anything: its rows may be swept as orphans before a stream reads them.
        req.log.warn({ destinationId: t.destinationId, ms: Date.now() - receivedAt }, 'stream signal too slow');
        throw temporalRefused(new SignalTooSlow());
      }
      return reply
        .status(202)
        .send({ destinationId: t.destinationId, accepted: updates.length, workflowId: streamWorkflowId(t.destinationId) });
    },
  );

  app.get(
    '/v1/destinations/:id/stream',
    {
      schema: {
        tags,
        summary: "The destination's stream: state, counts, buffer, last flush and lag",
        params: IdParams,
        response: { 200: StreamStatsView, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (req) => {
      const t = await target(req.params.id);
      const workflowId = streamWorkflowId(t.destinationId);
      const read = await readStreamStats(client, t.destinationId);
      if (read && !read.stats) {
        throw new AppError(
          'TEMPORAL_UNAVAILABLE',
          `No worker answered the stream's stats query in time (its run has ${read.historyLength} history events). Is a worker running (\`npm run worker\`)?`,
          { retryable: true },
        );
      }
      if (!read?.stats) {
        return {
          ...emptyStreamCounters(),
          destinationId: t.destinationId,
          workflowId,
          state: 'not_started' as const,
          buffered: 0,
          bufferedBytes: 0,
          inFlight: 0,
          flushesInFlight: 0,
          lagMs: 0,
          runs: 0,
          historyLength: 0,
        };
      }
      const { stats, runId } = read;
      const lagMs = stats.oldestBufferedAt ? Math.max(0, Date.now() - Date.parse(stats.oldestBufferedAt)) : 0;
      return { ...stats, workflowId, lagMs, webUiUrl: webUiUrl(config, workflowId, runId) };
    },
  );

  const control = (path: 'pause' | 'resume', state: 'pausing' | 'resuming', summary: string, send: (t: StreamTarget) => Promise<void>) =>
    app.post(
      `/v1/destinations/:id/stream/${path}`,
      {
        schema: { tags, summary, params: IdParams, response: { 202: StreamControlAccepted, 404: ErrorBody, 503: ErrorBody } },
      },
      async (req, reply) => {
        const t = await target(req.params.id);
        try {
          await send(t);
        } catch (err) {
          throw temporalRefused(err);
        }
        return reply.status(202).send({ destinationId: t.destinationId, workflowId: streamWorkflowId(t.destinationId), state });
      },
    );
  control('pause', 'pausing', 'Pause the stream: updates keep being accepted and are kept, nothing is sent until resume', (t) =>
    sender.control(t, pauseStreamSignal, [{ reason: 'Paused by an operator' }]),
  );
  control('resume', 'resuming', 'Resume the stream: everything kept while paused is sent', (t) =>
    sender.control(t, resumeStreamSignal, []),
  );

  app.patch(
    '/v1/destinations/:id/stream',
    {
      schema: {
        tags,
        summary: "Change this destination's stream settings (latency bound, batch size, concurrent flushes)",
        params: IdParams,
        body: StreamSettingsBody,
        response: { 202: StreamControlAccepted, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const t = await target(req.params.id);
      try {
        await sender.control(t, configureStreamSignal, [req.body]);
      } catch (err) {
        throw temporalRefused(err);
      }
      return reply
        .status(202)
        .send({ destinationId: t.destinationId, workflowId: streamWorkflowId(t.destinationId), state: 'configuring' as const });
    },
  );

  app.get(
    '/v1/destinations/:id/stream/rejections',
    {
      schema: {
        tags,
        summary: 'Rejected streamed updates, with their reasons, in pages',
        params: IdParams,
        querystring: RejectionsQuery,
        response: { 200: z.object({ items: z.array(RejectionView), next: z.number().optional() }), 404: ErrorBody },
      },
    },
    async (req) => {
      const t = await target(req.params.id);
      const rows = await services.rejections.page(streamRejectionsId(t.destinationId), req.query.after, req.query.limit);
      return {
        items: rows.map((r) => ({ seq: r.seq, line: r.line, email: r.email, reason: r.reason, createdAt: r.createdAt })),
        ...(rows.length === req.query.limit ? { next: rows[rows.length - 1].seq } : {}),
      };
    },
  );
}
