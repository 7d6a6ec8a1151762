/**
 * The benchmark stack: every part in its own process, as in production — the HubSpot simulator (child
 * process, driven through its HTTP admin API), a Temporal dev server (official CLI, SQLite file), worker
 * processes (so their memory can be measured), and the API in the driver process (fastify inject).
 */
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import axios, { type AxiosInstance } from 'axios';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildApi, type Api } from '../../src/api/server';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { generateProfiles, SAMPLE_AUDIENCES } from '../../src/members/sample-profiles';
import { createServices, type Services } from '../../src/runtime/services';
import { connectClient } from '../../src/temporal/connection';
import type { Client } from '@temporalio/client';
import { startTemporal, tempDir, TEST_API_KEY } from '../../test/helpers/stack';
import { startWorkerProcess, type WorkerProcess } from '../../test/helpers/worker-process';

const ROOT = path.resolve(__dirname, '..', '..');
/** Generated member files (git-ignored, cached between runs). */
const MEMBERS_DIR = path.join(ROOT, 'bench', 'out', 'data');
export const BENCH_AUDIENCE = SAMPLE_AUDIENCES[0];
/** Batch upsert calls answered 200/207, whatever the API version of the path (`/crm/v3/…`, `/crm/objects/2026-03/…`). */
export function upsertCallsOf(byRoute: Record<string, Record<string, number>>): number {
  let n = 0;
  for (const [route, byStatus] of Object.entries(byRoute))
    if (route.startsWith('POST ') && route.endsWith('/contacts/batch/upsert')) n += (byStatus['200'] ?? 0) + (byStatus['207'] ?? 0);
  return n;
}

export interface SimProcess {
  url: string;
  admin: AxiosInstance;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The simulator in its own process (`npm run hubspot-sim`), so it never shares the worker's event loop. */
export async function startSimProcess(): Promise<SimProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/hubspot-sim/main.ts'), '--port', '0'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('simulator did not start')), 30_000);
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as { event: string; url?: string };
      if (e.event === 'listening' && e.url) {
        clearTimeout(timer);
        resolve(e.url);
      }
    });
  });
  return {
    url,
    child,
    admin: axios.create({ baseURL: `${url}/__sim`, timeout: 120_000 }),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export interface BenchStack {
  sim: SimProcess;
  temporal: TestWorkflowEnvironment;
  config: Config;
  envVars: Record<string, string>;
  services: Services;
  client: Client;
  api: Api;
  workers: WorkerProcess[];
  dataDir: string;
  request(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON bodies of many routes
  startWorkers(n: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const dataDir = tempDir('hsd-bench-');
  const sim = await startSimProcess();
  const temporal = await startTemporal({ dbFilename: path.join(dataDir, 'temporal.db') });
  const envVars: Record<string, string> = {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench',
    HUBSPOT_ALLOWED_BASE_URLS: sim.url,
    API_KEYS: TEST_API_KEY,
    SOURCE_DIRS: MEMBERS_DIR,
    ...env,
  };
  const config = loadConfig(envVars);
  const services = await createServices(config);
  const client = await connectClient(config);
  const api = await buildApi({ config, client, services, logger: createLogger({ level: 'warn', name: 'bench-api' }) });
  const stack: BenchStack = {
    sim, temporal, config, envVars, services, client, api, workers: [], dataDir,
    async request(method, url, payload) {
      const res = await api.inject({ method, url, payload: payload as never, headers: { authorization: `Bearer ${TEST_API_KEY}` } });
      return { status: res.statusCode, body: res.body ? res.json() : undefined };
    },
    async startWorkers(n) {
      stack.workers.push(...(await Promise.all(Array.from({ length: n }, () => startWorkerProcess(envVars)))));
    },
    async stop() {
      await Promise.all(stack.workers.map((w) => w.kill('SIGTERM')));
      await api.close();
      await client.connection.close();
      await services.close();
      await temporal.teardown();
      await sim.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** A simulator account and a destination on it (mapping: first/last name, city, country). */
export async function benchDestination(stack: BenchStack, account: { tier?: string; apiAddOn?: boolean; scopes?: string[] } = { tier: 'pro' }) {
  const { portalId, token } = (await stack.sim.admin.post('/accounts', account)).data as { portalId: number; token: string };
  const res = await stack.request('POST', '/v1/destinations', {
    name: 'Benchmark',
    hubspot: { token, baseUrl: stack.sim.url },
    mapping: {
      attributes: [
        { source: 'person.name.firstName', target: 'firstname' },
        { source: 'person.name.lastName', target: 'lastname' },
        { source: 'workAddress.city', target: 'city' },
        { source: 'workAddress.country', target: 'country' },
      ],
    },
  });
  if (res.status !== 201) throw new Error(`destination: ${res.status} ${JSON.stringify(res.body)}`);
  return { destinationId: res.body.id as string, portalId, token };
}

/** Writes `count` members of BENCH_AUDIENCE (every profile a member) as NDJSON; cached across runs. */
export function membersFile(count: number, seed = 1): string {
  const dir = MEMBERS_DIR;
  const file = path.join(dir, `members-${count}-${seed}.ndjson`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let buf: string[] = [];
  for (const line of generateProfiles({ count, seed, membershipRates: [1, 0.3, 0.3] })) {
    buf.push(line);
    if (buf.length === 10_000) {
      fs.writeSync(fd, buf.join('\n') + '\n');
      buf = [];
    }
  }
  if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  return file;
}

/** Starts an activation of a file by path (the worker reads it directly) and waits for its end. */
export async function runActivation(
  stack: BenchStack,
  destinationId: string,
  file: string,
  audience: { id: string; name: string; encoding?: string } = BENCH_AUDIENCE,
  pollMs = 500,
) {
  const started = await stack.request('POST', `/v1/destinations/${destinationId}/activations`, { audience, source: { path: file } });
  if (started.status !== 202) throw new Error(`activation: ${started.status} ${JSON.stringify(started.body)}`);
  const activationId = started.body.activationId as string;
  for (;;) {
    const a = await stack.request('GET', `/v1/activations/${activationId}`);
    if (['completed', 'completed_with_rejections', 'failed', 'cancelled'].includes(a.body.status)) return { activationId, ...a.body };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Start and end of an activation across all its runs, and the largest history of any run. */
export async function activationTimes(client: Client, activationId: string): Promise<{ startMs: number; endMs: number; runs: number; maxHistoryEvents: number }> {
  let startMs = Infinity;
  let endMs = 0;
  let runs = 0;
  let maxHistoryEvents = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${activationId}'` })) {
    runs++;
    startMs = Math.min(startMs, wf.startTime.getTime());
    endMs = Math.max(endMs, wf.closeTime?.getTime() ?? 0);
    maxHistoryEvents = Math.max(maxHistoryEvents, wf.historyLength);
  }
  return { startMs, endMs, runs, maxHistoryEvents };
}

/** Shortest time HubSpot's rolling window allows for `calls` calls at `limit` per 10 s (the first `limit` go at once). */
export function idealSeconds(calls: number, limit: number): number {
  return Math.floor((calls - 1) / limit) * 10;
}

/** CPU seconds (user + system, every thread) a process has used so far (Linux; clock ticks of 1/100 s); 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** This process and its descendants: pid → short name (Linux /proc; empty elsewhere). */
export function processTree(): Map<number, string> {
  const out = new Map<number, string>([[process.pid, 'bench']]);
  let parents = new Map<number, number>();
  try {
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        parents.set(Number(d), ppid);
      } catch {
        // gone
      }
    }
  } catch {
    parents = new Map();
  }
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents)
      if (!out.has(pid) && out.has(ppid)) {
        let name = String(pid);
        try {
          const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
          name =
            cmd
              .find((a) => /temporal$|worker-child|load-generator|esbuild/.test(a))
              ?.split('/')
              .pop() ??
            cmd[0]?.split('/').pop() ??
            name;
        } catch {
          // gone
        }
        out.set(pid, name);
        grew = true;
      }
  }
  return out;
}

/** Peak resident memory (VmHWM) of a process, in MB. */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

export interface PortalStats {
  requests: number;
  maxRequestsIn10s: number;
  maxAcceptedIn10s: number;
  rateLimited: number;
}

export async function simStats(stack: BenchStack): Promise<{ byRoute: Record<string, Record<string, number>>; portals: Record<string, PortalStats> }> {
  return (await stack.sim.admin.get('/stats')).data;
}

/** Contacts the simulator holds for a portal (from its admin API). */
export async function simContactCount(stack: BenchStack, portalId: number): Promise<number> {
  return Number((await stack.sim.admin.get(`/accounts/${portalId}/contacts/count`)).data.count);
}

export function machine() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version };
}
