/**
 * Batch-upsert throughput of the HubSpot simulator: 100-contact batches from several concurrent
 * keep-alive clients over real HTTP, against a simulator running in its own child process pinned to one
 * core (when `taskset` exists), so the load generator does not share its CPU. Goal: ≥ 20,000 contacts/s.
 *
 *   npx tsx bench/sim-throughput.ts            # prints the result as JSON
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const SIM_THROUGHPUT_GOAL = 20_000;

export interface SimThroughputOptions {
  /** Measured window. Default 6000 ms. */
  durationMs?: number;
  /** Discarded warm-up before measuring. Default 2000 ms. */
  warmupMs?: number;
  /** Concurrent keep-alive clients. Default 8. */
  clients?: number;
  /** Contacts per request (HubSpot's maximum is 100). Default 100. */
  batchSize?: number;
  /** CPU the simulator is pinned to. Default 0. */
  core?: number;
}

export interface SimThroughputResult {
  contactsPerSecond: number;
  /** contactsPerSecond / 20,000. */
  ratioToGoal: number;
  goalContactsPerSecond: number;
  requestsPerSecond: number;
  requests: number;
  contacts: number;
  failedRequests: number;
  batchSize: number;
  clients: number;
  durationMs: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Simulator CPU time over the measured window, as % of one core (≈100 = it was the bottleneck). */
  simulatorCpuPercent: number;
  /**
   * Contacts per second of simulator CPU: what one saturated core would take. Below 100% CPU the
   * load generator (on the other core) was the limit, not the simulator.
   */
  contactsPerSimulatorCpuSecond: number;
  simulatorPinnedToCore: number | null;
  machine: { cpus: number; cpuModel: string; node: string };
  command: string;
}

const ROOT = path.resolve(__dirname, '..');
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson'];
const STAGES = ['subscriber', 'lead', 'marketingqualifiedlead', 'customer'];

function startSimulator(core: number): Promise<{ child: ChildProcess; url: string; pinned: boolean }> {
  const pinned = process.platform === 'linux' && spawnSync('taskset', ['-c', String(core), 'true']).status === 0;
  const nodeArgs = ['--import', 'tsx', path.join(ROOT, 'src/hubspot-sim/main.ts'), '--port', '0'];
  const child = pinned
    ? spawn('taskset', ['-c', String(core), process.execPath, ...nodeArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, nodeArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('simulator did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`simulator exited early with code ${String(code)}`)));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const event = JSON.parse(line) as { event: string; url?: string };
      if (event.event === 'listening' && event.url) {
        clearTimeout(timer);
        resolve({ child, url: event.url, pinned });
      }
    });
  });
}

/** One HTTP call; with `discard` the answer body is drained unread (keeps the generator cheap). */
function request(
  agent: http.Agent,
  url: string,
  method: string,
  urlPath: string,
  body?: Buffer | string,
  token?: string,
  discard = false,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = http.request(`${url}${urlPath}`, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      if (discard) res.resume();
      else res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: discard ? '' : Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Pre-serialised request bodies with unique emails, so the generator spends its CPU on sending. */
function makeBatches(count: number, batchSize: number): Buffer[] {
  const out: Buffer[] = [];
  for (let b = 0; b < count; b++) {
    const inputs = [];
    for (let i = 0; i < batchSize; i++) {
      const n = b * batchSize + i;
      inputs.push({
        id: `Bench.User${n}@Example.com`,
        idProperty: 'email',
        objectWriteTraceId: String(n),
        properties: {
          firstname: FIRST[n % FIRST.length],
          lastname: LAST[n % LAST.length],
          company: `Company ${n % 997}`,
          phone: `+1 555 ${String(n % 10_000_000).padStart(7, '0')}`,
          city: 'Boston',
          lifecyclestage: STAGES[n % STAGES.length],
        },
      });
    }
    out.push(Buffer.from(JSON.stringify({ inputs })));
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 100) / 100;
}

async function cpuMs(agent: http.Agent, url: string): Promise<number> {
  const r = await request(agent, url, 'GET', '/__sim/stats');
  const s = JSON.parse(r.text) as { process: { cpuUserMs: number; cpuSystemMs: number } };
  return s.process.cpuUserMs + s.process.cpuSystemMs;
}

export async function benchSimThroughput(options: SimThroughputOptions = {}): Promise<SimThroughputResult> {
  const durationMs = options.durationMs ?? 6000;
  const warmupMs = options.warmupMs ?? 2000;
  const clients = options.clients ?? 8;
  const batchSize = options.batchSize ?? 100;
  const core = options.core ?? 0;
  const sim = await startSimulator(core);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients + 2 });
  try {
    const created = await request(agent, sim.url, 'POST', '/__sim/accounts', JSON.stringify({ tier: 'enterprise' }));
    const { portalId, token } = JSON.parse(created.text) as { portalId: number; token: string };
    // Lift HubSpot's limits: this measures the simulator, not the rate limiter.
    await request(agent, sim.url, 'PUT', `/__sim/accounts/${portalId}/limits`, JSON.stringify({ tenSecondly: 1e12, daily: 1e15 }));

    // Enough unique batches for ~40k contacts/s over the whole run; later passes become updates.
    const batches = makeBatches(Math.ceil((40_000 * (durationMs + warmupMs)) / 1000 / batchSize), batchSize);
    let next = 0;
    let measuring = false;
    let stop = false;
    let requests = 0;
    let failed = 0;
    const latencies: number[] = [];

    const client = async () => {
      while (!stop) {
        const body = batches[next++ % batches.length];
        const t0 = performance.now();
        const r = await request(agent, sim.url, 'POST', '/crm/v3/objects/contacts/batch/upsert', body, token, true);
        if (!measuring) continue;
        requests++;
        latencies.push(performance.now() - t0);
        if (r.status !== 200) failed++;
      }
    };
    const running = Array.from({ length: clients }, () => client());
    await new Promise((r) => setTimeout(r, warmupMs));
    const cpuBefore = await cpuMs(agent, sim.url);
    measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, durationMs));
    measuring = false;
    const elapsed = performance.now() - t0;
    const cpuAfter = await cpuMs(agent, sim.url);
    stop = true;
    await Promise.all(running);

    const ok = requests - failed;
    const contactsPerSecond = Math.round((ok * batchSize * 1000) / elapsed);
    latencies.sort((a, b) => a - b);
    const cpu = os.cpus();
    return {
      contactsPerSecond,
      ratioToGoal: Math.round((contactsPerSecond / SIM_THROUGHPUT_GOAL) * 100) / 100,
      goalContactsPerSecond: SIM_THROUGHPUT_GOAL,
      requestsPerSecond: Math.round((requests * 1000) / elapsed),
      requests,
      contacts: ok * batchSize,
      failedRequests: failed,
      batchSize,
      clients,
      durationMs: Math.round(elapsed),
      latencyMs: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        max: percentile(latencies, 100),
      },
      simulatorCpuPercent: Math.round(((cpuAfter - cpuBefore) / elapsed) * 100),
      contactsPerSimulatorCpuSecond: cpuAfter > cpuBefore ? Math.round((ok * batchSize * 1000) / (cpuAfter - cpuBefore)) : 0,
      simulatorPinnedToCore: sim.pinned ? core : null,
      machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', node: process.version },
      command: 'npx tsx bench/sim-throughput.ts',
    };
  } finally {
    agent.destroy();
    sim.child.kill('SIGTERM');
    await new Promise((r) => (sim.child.exitCode !== null ? r(undefined) : sim.child.once('exit', r)));
  }
}

if (require.main === module) {
  benchSimThroughput()
    .then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`sim-throughput failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    });
}
