/**
 * Streaming latency: a sustained stream of profile updates through the real API over HTTP (one profile
 * per request, open loop: requests leave on schedule whatever the answers, from a load generator in its
 * own process), against the in-process stack of `npm start` (Temporal dev server with a SQLite file, API,
 * worker and HubSpot simulator in one process).
 *
 * Latency of an update = time from the API sending its 202 (an `onResponse` hook) to the contact being
 * written in the simulator (the contact's `updatedAt`, read after the run, so measuring adds no load).
 * Every update has its own email, so each contact is written exactly once. Also reported: history
 * events per 10,000 updates, summed over every run of the stream workflow. Goal: p99 < 1.5 s.
 *
 *   npx tsx bench/streaming-latency.ts [--rate 200] [--duration 60]      # prints JSON
 *   STREAM_SIGNALS_IN_FLIGHT=1 npx tsx bench/streaming-latency.ts        # STREAM_* env tunes the stack
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import type { Client } from '@temporalio/client';
import path from 'node:path';
import { audiencePropertyName } from '../src/mapping/audience-property';
import { createDestination, startStack, startTemporal, tempDir, TEST_API_KEY, waitFor } from '../test/helpers/stack';
import { activateAudience, AUD_A, streamStats } from '../test/helpers/streaming';

export const STREAMING_P99_GOAL_MS = 1500;

export interface StreamingLatencyOptions {
  ratePerSecond?: number;
  durationSeconds?: number;
  /** Extra environment for the stack's config (e.g. STREAM_SIGNALS_IN_FLIGHT), for experiments. */
  env?: Record<string, string>;
}

export interface StreamingLatencyResult {
  ratePerSecond: number;
  durationSeconds: number;
  updatesSent: number;
  accepted: number;
  refused: number;
  /** 202 → visible in the simulator. */
  latencyMs: Percentiles;
  /** Request sent → visible (adds the API's own answer time). */
  endToEndMs: Percentiles;
  /** Request sent → 202 (reduce + signal accepted by Temporal). */
  apiAnswerMs: Percentiles;
  goalP99Ms: number;
  metGoal: boolean;
  contactsExact: boolean;
  stream: { sent: number; merged: number; rejected: number; flushes: number; avgBatch: number; runs: number };
  historyEvents: number;
  historyEventsPer10kUpdates: number;
  signals: number;
  /** From the stream's histories: flush activity run time and workflow task run time. */
  temporal: { flushActivityMs: Percentiles; workflowTaskMs: Percentiles; failedWorkflowTasks: number };
  machine: { cpus: number; cpuModel: string; node: string };
  command: string;
}

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function percentiles(values: number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))] ?? NaN;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: v[v.length - 1] ?? NaN };
}

const eventMs = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
  Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);

/** Sums every run of the stream (closed ones and the open one) and times its activities and workflow tasks. */
async function analyseHistory(client: Client, workflowId: string) {
  let events = 0;
  let signals = 0;
  let failedWorkflowTasks = 0;
  const flush: number[] = [];
  const task: number[] = [];
  const runs: Array<{ runId: string; start: number; close: number | null; events: number }> = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? [];
    const byId = new Map(history.map((e) => [Number(e.eventId), e]));
    events += history.length;
    for (const e of history) {
      if (e.workflowExecutionSignaledEventAttributes) signals++;
      if (e.workflowTaskFailedEventAttributes) failedWorkflowTasks++;
      const done = e.activityTaskCompletedEventAttributes;
      const scheduled = done ? byId.get(Number(done.scheduledEventId))?.activityTaskScheduledEventAttributes : undefined;
      if (done && scheduled?.activityType?.name === 'flushStreamBatch')
        flush.push(eventMs(e) - eventMs(byId.get(Number(done.startedEventId))!));
      const wc = e.workflowTaskCompletedEventAttributes;
      if (wc) task.push(eventMs(e) - eventMs(byId.get(Number(wc.startedEventId))!));
    }
    runs.push({ runId: wf.runId, start: wf.startTime.getTime(), close: wf.closeTime?.getTime() ?? null, events: history.length });
  }
  return {
    events,
    signals,
    runs,
    timings: { flushActivityMs: percentiles(flush), workflowTaskMs: percentiles(task), failedWorkflowTasks },
  };
}

/** Runs the load in a child process (its CPU is not the stack's); returns [email, sentAtMs, status] per request. */
function runLoadGenerator(o: { url: string; rate: number; total: number; audienceId: string }): Promise<Array<[string, number, number]>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'streaming-load-generator.ts')], {
      env: {
        ...process.env,
        LOAD_URL: o.url,
        LOAD_API_KEY: TEST_API_KEY,
        LOAD_RATE: String(o.rate),
        LOAD_TOTAL: String(o.total),
        LOAD_AUDIENCE_ID: o.audienceId,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      resolve((JSON.parse(out) as { sent: Array<[string, number, number]> }).sent);
    });
  });
}

export async function benchStreamingLatency(opts: StreamingLatencyOptions = {}): Promise<StreamingLatencyResult> {
  const rate = opts.ratePerSecond ?? 200;
  const duration = opts.durationSeconds ?? 60;
  const total = Math.round(rate * duration);
  const temporal = await startTemporal({ dbFilename: path.join(tempDir('hsd-bench-temporal-'), 'temporal.db') });
  const stack = await startStack({ temporal, env: opts.env });
  const answeredAt = new Map<string, number>();
  stack.api.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode !== 202 || !req.url.endsWith('/profiles')) return;
    const email = (req.body as { identityMap: { Email: Array<{ id: string }> } }).identityMap.Email[0].id;
    answeredAt.set(email, Date.now());
  });
  try {
    const { destinationId, portalId } = await createDestination(stack);
    await activateAudience(stack, destinationId, AUD_A);
    const address = await stack.api.listen({ host: '127.0.0.1', port: 0 });
    const url = new URL(`/v1/destinations/${destinationId}/profiles`, address);

    const load = await runLoadGenerator({ url: url.toString(), rate, total, audienceId: AUD_A.id });
    const sentAt = new Map(load.map(([email, at]) => [email, at]));
    const accepted = load.filter(([, , status]) => status === 202).length;
    const refused = load.length - accepted;
    const started = load[0]?.[1] ?? Date.now();

    const prop = audiencePropertyName(AUD_A.id);
    await waitFor(() => stack.sim.admin.contactCount(portalId) >= accepted, {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: 'every streamed contact in the simulator',
    });
    const stats = await waitFor(
      async () => {
        const s = await streamStats(stack, destinationId);
        return s.received >= accepted && s.buffered === 0 && s.inFlight === 0 ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the stream to be idle' },
    );

    const latency: number[] = [];
    const endToEnd: number[] = [];
    const apiAnswer: number[] = [];
    let exact = true;
    for (const [email, sent] of sentAt) {
      const answered = answeredAt.get(email);
      if (answered === undefined) continue;
      const c = stack.sim.admin.getContact(portalId, email);
      if (!c || c.properties[prop] !== 'realized' || c.properties.city !== 'Lisbon') {
        exact = false;
        continue;
      }
      const visible = Date.parse(c.updatedAt);
      latency.push(Math.max(0, visible - answered));
      endToEnd.push(Math.max(0, visible - sent));
      apiAnswer.push(answered - sent);
    }

    const history = await analyseHistory(stack.client, stats.workflowId);
    if (process.env.BENCH_DIAGNOSE) {
      const slow = [...sentAt]
        .map(([email, sent]) => ({
          at: sent - started,
          api: (answeredAt.get(email) ?? NaN) - sent,
          visible: Date.parse(stack.sim.admin.getContact(portalId, email)?.updatedAt ?? '') - sent,
        }))
        .sort((a, b) => b.visible - a.visible)
        .slice(0, 15);
      console.error(
        JSON.stringify({
          slow,
          runs: history.runs.map((r) => ({ ...r, start: r.start - started, close: r.close ? r.close - started : null })),
        }),
      );
    }
    const lat = percentiles(latency);
    return {
      ratePerSecond: rate,
      durationSeconds: duration,
      updatesSent: total,
      accepted,
      refused,
      latencyMs: lat,
      endToEndMs: percentiles(endToEnd),
      apiAnswerMs: percentiles(apiAnswer),
      goalP99Ms: STREAMING_P99_GOAL_MS,
      metGoal: lat.p99 < STREAMING_P99_GOAL_MS && refused === 0 && exact,
      contactsExact: exact && stack.sim.admin.contactCount(portalId) === accepted,
      stream: {
        sent: stats.sent,
        merged: stats.merged,
        rejected: stats.rejected,
        flushes: stats.flushes,
        avgBatch: Math.round((stats.sent / Math.max(1, stats.flushes)) * 10) / 10,
        runs: stats.runs,
      },
      historyEvents: history.events,
      historyEventsPer10kUpdates: Math.round((history.events / Math.max(1, stats.received)) * 10_000),
      signals: history.signals,
      temporal: history.timings,
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version },
      command: `npx tsx bench/streaming-latency.ts --rate ${rate} --duration ${duration}`,
    };
  } finally {
    await stack.close();
    await temporal.teardown();
  }
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
}

if (require.main === module) {
  // STREAM_* variables in the environment tune the stack (experiments); none are needed.
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('STREAM_') && e[1] !== undefined),
  );
  benchStreamingLatency({ ratePerSecond: arg('rate'), durationSeconds: arg('duration'), env })
    .then((r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
