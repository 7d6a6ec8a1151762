/**
 * Streaming latency: a sustained stream of profile updates through the real API over HTTP (one profile
 * per request, open loop: requests leave on schedule whatever the answers), on the same in-process
 * stack as `npm start` (Temporal dev server with a SQLite file, API, worker and HubSpot simulator).
 *
 * Latency of an update = time from the API sending its 202 (an `onResponse` hook) to the contact being
 * written in the simulator (the contact's `updatedAt`, read after the run, so measuring adds no load).
 * Every update has its own email, so each contact is written exactly once. Also reported: history
 * events per 10,000 updates, summed over every run of the stream workflow. Goal: p99 < 1.5 s.
 *
 *   npx tsx bench/streaming-latency.ts [--rate 200] [--duration 60]      # prints JSON
 *   STREAM_SIGNALS_IN_FLIGHT=1 npx tsx bench/streaming-latency.ts        # STREAM_* env tunes the stack
 */
import http from 'node:http';
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

const eventMs = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);

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
      if (done && scheduled?.activityType?.name === 'flushStreamBatch') flush.push(eventMs(e) - eventMs(byId.get(Number(done.startedEventId))!));
      const wc = e.workflowTaskCompletedEventAttributes;
      if (wc) task.push(eventMs(e) - eventMs(byId.get(Number(wc.startedEventId))!));
    }
    runs.push({ runId: wf.runId, start: wf.startTime.getTime(), close: wf.closeTime?.getTime() ?? null, events: history.length });
  }
  return { events, signals, runs, timings: { flushActivityMs: percentiles(flush), workflowTaskMs: percentiles(task), failedWorkflowTasks } };
}

function post(agent: http.Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${TEST_API_KEY}` },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
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
    const email = (req.body as { identityMap: { Email: Array<{ id: string }> } }).identityMap.Email[0]!.id;
    answeredAt.set(email, Date.now());
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const { destinationId, portalId } = await createDestination(stack);
    await activateAudience(stack, destinationId, AUD_A);
    const address = await stack.api.listen({ host: '127.0.0.1', port: 0 });
    const url = new URL(`/v1/destinations/${destinationId}/profiles`, address);

    const sentAt = new Map<string, number>();
    let accepted = 0;
    let refused = 0;
    const inFlight: Array<Promise<void>> = [];
    const started = Date.now();
    let next = 0;
    // Open loop: every tick sends whatever is due by now.
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
        while (next < due) {
          const i = next++;
          const email = `stream${i}@bench.example.com`;
          const body = JSON.stringify({
            identityMap: { Email: [{ id: email, primary: true }] },
            timestamp: new Date().toISOString(),
            person: { name: { firstName: `First${i}`, lastName: 'Bench' } },
            workAddress: { city: 'Lisbon', country: 'Portugal' },
            segmentMembership: { ups: { [AUD_A.id]: { status: 'realized', lastQualificationTime: new Date().toISOString() } } },
          });
          sentAt.set(email, Date.now());
          inFlight.push(post(agent, url, body).then((status) => {
            if (status === 202) accepted++;
            else refused++;
          }, () => {
            refused++;
          }));
        }
        if (next >= total) resolve();
        else setTimeout(tick, 2);
      };
      tick();
    });
    await Promise.all(inFlight);

    const prop = audiencePropertyName(AUD_A.id);
    await waitFor(() => stack.sim.admin.contactCount(portalId) >= accepted, { timeoutMs: 120_000, intervalMs: 250, what: 'every streamed contact in the simulator' });
    const stats = await waitFor(async () => {
      const s = await streamStats(stack, destinationId);
      return s.received >= accepted && s.buffered === 0 && s.inFlight === 0 ? s : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250, what: 'the stream to be idle' });

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
      const slow = [...sentAt].map(([email, sent]) => ({ at: sent - started, api: (answeredAt.get(email) ?? NaN) - sent, visible: Date.parse(stack.sim.admin.getContact(portalId, email)?.updatedAt ?? '') - sent }))
        .sort((a, b) => b.visible - a.visible).slice(0, 15);
      console.error(JSON.stringify({ slow, runs: history.runs.map((r) => ({ ...r, start: r.start - started, close: r.close ? r.close - started : null })) }));
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
      stream: { sent: stats.sent, merged: stats.merged, rejected: stats.rejected, flushes: stats.flushes, avgBatch: Math.round((stats.sent / Math.max(1, stats.flushes)) * 10) / 10, runs: stats.runs },
      historyEvents: history.events,
      historyEventsPer10kUpdates: Math.round((history.events / Math.max(1, stats.received)) * 10_000),
      signals: history.signals,
      temporal: history.timings,
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version },
      command: `npx tsx bench/streaming-latency.ts --rate ${rate} --duration ${duration}`,
    };
  } finally {
    agent.destroy();
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
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('STREAM_') && e[1] !== undefined));
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
