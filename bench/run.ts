/**
 * `npm run bench`: runs the benchmark suite against the HubSpot simulator on this machine and writes
 * BENCHMARKS.md (method, command, machine, figures as ratios measured in one run) and
 * bench/out/results.json. `npm run bench -- --only ceiling-free,durability` runs a subset.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchCeiling, benchDurability, benchScale, benchSeveralWorkers } from './activation-benches';
import { benchBadRecords } from './bad-records';
import { benchDataflows, benchRefused } from './dataflows';
import { benchDryRun } from './dry-run';
import { benchLists } from './lists';
import { machine } from './lib/harness';
import { benchSimThroughput } from './sim-throughput';
import { benchStreamingLatency, STREAMING_GOALS } from './streaming-latency';
import { benchSqlScale } from './sql-sync';

const ROOT = path.resolve(__dirname, '..');

interface Bench {
  id: string;
  title: string;
  goal: string;
  run: () => Promise<Record<string, unknown>>;
  /* eslint-disable @typescript-eslint/no-explicit-any -- each benchmark returns its own figures */
  met: (r: any) => boolean;
  figures: (r: any) => string[];
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

/* eslint-disable @typescript-eslint/no-explicit-any -- a streaming benchmark's figures (bench/streaming-latency.ts) */
const historyMet = (r: any) =>
  r.history.bytesPerUpdate <= STREAMING_GOALS.historyBytesPerUpdate && r.history.largestPageBytes <= STREAMING_GOALS.historyPageBytes;

const streamingFigures = (r: any): string[] => [
  `send → visible p50 ${r.endToEndMs.p50} ms, p99 ${r.endToEndMs.p99} ms (from the 202: p99 ${r.latencyMs.p99} ms); API answer p99 ${r.apiAnswerMs.p99} ms; ${r.delivered} of ${r.accepted} accepted delivered, ${r.refused} refused; exact: ${r.contactsExact}`,
  `history ${r.history.bytesPerUpdate} bytes per update, largest page ${(r.history.largestPageBytes / 1024).toFixed(0)} KB (${r.history.events} events, ${r.history.runs} runs); load average ${r.loadAverage.before[0]} → ${r.loadAverage.after[0]}`,
  `CPU while the load ran: stack ${r.capacity.stackCoresBusy} + load generator ${r.capacity.generatorCoresBusy} of ${r.capacity.machineCores} cores${r.capacity.stackCpuMsPerUpdate === undefined ? '' : `; ${r.capacity.stackCpuMsPerUpdate} ms of stack CPU per update (2,000/s would need ${r.capacity.coresNeededAt2000PerSecond} cores)`}; machine yardstick ${r.machineYardstickMicros} µs a contact (bench/lib/memory-floor.ts, 20,000 contacts)`,
];
/* eslint-enable @typescript-eslint/no-explicit-any */

const BENCHES: Bench[] = [
  {
    id: 'simulator',
    title: 'Simulator batch-upsert throughput',
    goal: "≥ 20,000 contacts/s on one core (10× HubSpot's highest ceiling)",
    run: () => benchSimThroughput() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.contactsPerSecond >= 20_000,
    figures: (r) => [
      `${r.contactsPerSecond.toLocaleString('en')} contacts/s (ratio to goal ${r.ratioToGoal.toFixed(2)}), simulator at ${r.simulatorCpuPercent}% of one core`,
      `per simulator CPU-second: ${r.contactsPerSimulatorCpuSecond.toLocaleString('en')} contacts; p99 request latency ${r.latencyMs.p99} ms`,
    ],
  },
  ...(['free', 'pro'] as const).map((tier): Bench => ({
    id: `ceiling-${tier}`,
    title: `Ceiling efficiency, ${tier === 'free' ? 'Free (100 / 10 s)' : 'Professional (190 / 10 s)'}, 100,000 members`,
    goal: 'shortest time the rolling window allows ÷ measured ≥ 0.95; 429s ≤ 1% of calls; nothing lost',
    run: () => benchCeiling(tier) as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.ratio >= 0.95 && r.rate429 <= 0.01 && r.nothingLost,
    figures: (r) => [
      `ratio ${r.ratio} (${r.calls} calls: ${r.idealSeconds} s allowed by the window, ${r.measuredSeconds} s measured)`,
      `429s ${(r.rate429 * 100).toFixed(2)}% of calls; highest 10-second window ${r.maxRequestsIn10s} (limit ${r.limitPer10s}); nothing lost: ${r.nothingLost}`,
    ],
  })),
  {
    id: 'lists',
    title: 'Audience as a HubSpot list, Professional (190 / 10 s), 100,000 members',
    goal: 'calls (upserts + memberships) ≤ 1.05 × the fewest the limits allow; ceiling efficiency ≥ 0.95; list exact',
    run: () => benchLists() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.callsRatio <= 1.05 && r.ceilingRatio >= 0.95 && r.nothingLost,
    figures: (r) => [
      `calls ${r.upsertCalls} upserts + ${r.membershipCalls} membership = ${r.callsRatio} × the minimum ${r.minimumCalls}`,
      `ceiling ratio ${r.ceilingRatio} (${r.portalCalls} calls: ${r.idealSeconds} s allowed by the window, ${r.measuredSeconds} s measured; list step ${r.listStepSeconds} s, ${r.tailSeconds} s from the last page to the end); 429s ${(r.rate429 * 100).toFixed(2)}%; list size ${r.listSize}; nothing lost: ${r.nothingLost}`,
    ],
  },
  {
    id: 'bad-records',
    title: 'Calls per HubSpot-only bad record, upsertPartial all-or-nothing, batches of 100',
    goal: '≤ 4 extra calls per bad record whose value HubSpot names (bisection cost about 13)',
    run: () => benchBadRecords() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.extraCallsPerBadRecord <= 4 && r.cases.every((c: { nothingLost: boolean }) => c.nothingLost),
    figures: (r) =>
      r.cases.map(
        (c: { kind: string; badPerBatch: number; batches: number; calls: number; extraCallsPerBadRecord: number; nothingLost: boolean }) =>
          `${c.kind}, ${c.badPerBatch} bad per batch: ${c.extraCallsPerBadRecord} extra calls per bad record (${c.calls} calls for ${c.batches} batches); nothing lost: ${c.nothingLost}`,
      ),
  },
  {
    id: 'refused-5pct',
    title: 'Ceiling efficiency, Professional, 100,000 members of which 5% are refused by HubSpot only',
    goal: 'within 0.95 of the fewest calls each answer mode allows (window time for them ÷ measured); nothing lost',
    run: () => benchRefused() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.cases.every((c: { floorRatio: number; nothingLost: boolean }) => c.floorRatio >= 0.95 && c.nothingLost),
    figures: (r) =>
      r.cases.map(
        (c: {
          upsertPartial: string;
          refused: number;
          calls: number;
          floorCalls: number;
          ceilingRatio: number;
          floorRatio: number;
          rate429: number;
          nothingLost: boolean;
        }) =>
          `${c.upsertPartial}: ceiling ratio ${c.ceilingRatio}, floor ratio ${c.floorRatio} (${c.calls} calls, floor ${c.floorCalls}, ${c.refused} refused); 429s ${(c.rate429 * 100).toFixed(2)}%; nothing lost: ${c.nothingLost}`,
      ),
  },
  {
    id: 'dataflows',
    title: 'Change-driven dataflows, 100,000 profiles, 5 audiences, Professional',
    goal: '5 audiences ≤ 1.05 × the upsert calls of 1; unchanged re-run ≤ 1% of calls and ≤ 10% of time; 1% changed + 1% dropped ≤ 3% of calls; memory cost ≥ 0.95 (limits off)',
    run: () => benchDataflows() as unknown as Promise<Record<string, unknown>>,
    met: (r) =>
      r.multiRatio <= 1.05 &&
      r.unchangedCallRatio <= 0.01 &&
      r.unchangedTimeRatio <= 0.1 &&
      r.changedCallRatio <= 0.03 &&
      r.memoryCostRatio >= 0.95 &&
      r.changedExact &&
      r.nothingLost,
    figures: (r) => [
      `5 audiences in one run: ${r.fiveAudienceUpserts} upsert calls ÷ ${r.oneAudienceUpserts} for one audience = ${r.multiRatio} (five one-audience runs: about 5×)`,
      `unchanged re-run: ${r.unchangedUpserts} upsert calls (ratio ${r.unchangedCallRatio}), wall time ratio ${r.unchangedTimeRatio}`,
      `1% changed + 1% dropped (exitMissing): ${r.changedUpserts} upsert calls (ratio ${r.changedCallRatio}) + ${r.changedExitUpdates} batch updates writing the exits; exact: ${r.changedExact}`,
      `memory cost (limits off, median of 5 alternating pairs ${r.memoryCostPairs.join(' / ')}): ${r.withMemoryContactsPerSecond.toLocaleString('en')} contacts/s with, ${r.withoutMemoryContactsPerSecond.toLocaleString('en')} without = ${r.memoryCostRatio}; nothing lost: ${r.nothingLost}`,
      `worker CPU per first run: ${r.workerCpuSecondsWith} s with the memory, ${r.workerCpuSecondsWithout} s without (+${Math.round(((r.workerCpuSecondsWith - r.workerCpuSecondsWithout) / r.members) * 1e6)} µs a contact)`,
      `whole stack's CPU per first run: ${r.stackCpuSecondsWith} s with the memory, ${r.stackCpuSecondsWithout} s without; busy ${Math.round(r.stackBusyWith * 100)}% / ${Math.round(r.stackBusyWithout * 100)}% of the 2 cores`,
      `the memory's least CPU a contact, measured alone: ${r.memoryFloor.totalMicros} µs (key ${r.memoryFloor.keyMicros}, fingerprint ${r.memoryFloor.fingerprintMicros}, upsert ${r.memoryFloor.upsertMicros}); what it may add for 0.95 of a CPU-bound run: ${r.memoryBudgetMicros} µs`,
    ],
  },
  {
    id: 'dry-run',
    title: 'Dry run, Professional (190 / 10 s), 100,000 members',
    goal: 'HubSpot calls ≤ 1.02 × the minimum batch reads (1 per 100 members); window-allowed time ÷ measured ≥ 0.95; zero writes',
    run: () => benchDryRun() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.costRatio <= 1.02 && r.ratio >= 0.95 && r.writeCalls === 0 && r.allPlanned,
    figures: (r) => [
      `${r.calls} calls for ${r.minimumReadCalls} minimum reads (cost ratio ${r.costRatio}; ${r.readCalls} batch reads); writes ${r.writeCalls}`,
      `ratio ${r.ratio} (${r.idealSeconds} s allowed by the window, ${r.measuredSeconds} s measured); 429s ${(r.rate429 * 100).toFixed(2)}%; all planned: ${r.allPlanned}`,
    ],
  },
  {
    id: 'durability',
    title: 'Cost of durability (rate limits off), 100,000 members',
    goal: 'activation throughput ÷ a bare, non-durable loop of axios batch upserts ≥ 0.7',
    run: () => benchDurability() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.ratio >= 0.7 && r.nothingLost,
    figures: (r) => [
      `ratio ${r.ratio}: activation ${r.activationContactsPerSecond.toLocaleString('en')} contacts/s, bare loop ${r.bareLoopContactsPerSecond.toLocaleString('en')} contacts/s (same simulator, same run); nothing lost: ${r.nothingLost}`,
    ],
  },
  {
    id: 'streaming',
    title: 'Streaming latency, 200 updates/s for 60 s',
    goal: 'p99 from the client sending an update to the contact visible in the simulator < 1.5 s',
    run: () => benchStreamingLatency() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.endToEndMs.p99 < STREAMING_GOALS.p99At1000Ms && r.refused === 0 && r.contactsExact,
    figures: streamingFigures,
  },
  ...([1000, 2000] as const).map((rate): Bench => ({
    id: `streaming-${rate}`,
    title: `Streaming at ${rate.toLocaleString('en')} updates/s for 60 s (one profile per request)`,
    goal: `every update delivered exactly; p99 send → visible ≤ ${rate === 1000 ? '1.5' : '2'} s; API answer p99 ≤ 100 ms; ≤ 100 history bytes per update, no page over 1 MB`,
    run: () => benchStreamingLatency({ ratePerSecond: rate, durationSeconds: 60 }) as unknown as Promise<Record<string, unknown>>,
    met: (r) =>
      r.refused === 0 &&
      r.contactsExact &&
      r.endToEndMs.p99 <= (rate === 1000 ? STREAMING_GOALS.p99At1000Ms : STREAMING_GOALS.p99At2000Ms) &&
      r.apiAnswerMs.p99 <= STREAMING_GOALS.apiAnswerP99Ms &&
      historyMet(r),
    figures: streamingFigures,
  })),
  {
    id: 'streaming-burst',
    title: 'Streaming burst: 100,000 updates posted as fast as the client can (requests of 1,000)',
    goal: `drain rate ÷ the account's ceiling (Professional + API add-on, 2,500 contacts/s) ≥ ${STREAMING_GOALS.burstCeilingRatio}; every update delivered exactly`,
    run: () => benchStreamingLatency({ mode: 'burst', total: 100_000, batch: 1000 }) as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.contactsExact && r.drain.ceilingRatio >= STREAMING_GOALS.burstCeilingRatio && historyMet(r),
    figures: (r) => [
      `drained ${r.delivered} of ${r.accepted} in ${r.drain.seconds} s = ${r.drain.contactsPerSecond.toLocaleString('en')} contacts/s, ratio to the ceiling ${r.drain.ceilingRatio}; ${r.drain.retries429} retries after 429`,
      ...streamingFigures(r).slice(1),
    ],
  },
  {
    id: 'streaming-idle',
    title: 'Streaming one update a second for 30 s',
    goal: `p50 send → visible ≤ ${STREAMING_GOALS.idleP50Ms} ms (a lone update does not wait for the 1 s batching bound)`,
    run: () => benchStreamingLatency({ ratePerSecond: 1, durationSeconds: 30 }) as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.contactsExact && r.endToEndMs.p50 <= STREAMING_GOALS.idleP50Ms,
    figures: streamingFigures,
  },
  {
    id: 'streaming-fanout',
    title: 'Streaming to 20 destinations at once, 200 updates/s each for 30 s',
    goal: `fair: worst destination's p99 ÷ best ≤ ${STREAMING_GOALS.fairness}; every update delivered exactly`,
    run: () =>
      benchStreamingLatency({ ratePerSecond: 200, durationSeconds: 30, destinations: 20 }) as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.contactsExact && r.fairness.worstOverBest <= STREAMING_GOALS.fairness,
    figures: (r) => [
      `worst p99 ÷ best p99 = ${r.fairness.worstOverBest} (p99 by destination ${Math.min(...r.fairness.p99ByDestination)}–${Math.max(...r.fairness.p99ByDestination)} ms)`,
      ...streamingFigures(r),
    ],
  },
  {
    id: 'scale',
    title: 'Scale: 1,000,000 members at a raised simulator limit',
    goal: 'worker peak RSS ≤ 512 MB; largest history of any run ≤ 10,000 events; nothing lost',
    run: () => benchScale() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.workerPeakRssMb <= 512 && r.maxHistoryEvents <= 10_000 && r.nothingLost,
    figures: (r) => [
      `wall time ${r.wallSeconds} s (${r.contactsPerSecond.toLocaleString('en')} contacts/s); worker peak RSS ${r.workerPeakRssMb} MB; largest history ${r.maxHistoryEvents} events over ${r.runs} run(s); nothing lost: ${r.nothingLost}`,
    ],
  },
  {
    id: 'sql-scale',
    title: 'SQL source at scale: a 1,000,000-row PostgreSQL table at a raised simulator limit',
    goal: 'worker peak RSS ≤ 512 MB; throughput ≥ 0.9 of the same members from an NDJSON file; nothing lost',
    run: () => benchSqlScale() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.sql.workerPeakRssMb <= 512 && r.ratio >= 0.9 && r.nothingLost,
    figures: (r) => [
      `SQL ${r.sql.contactsPerSecond.toLocaleString('en')} contacts/s (${r.sql.wallSeconds} s) ÷ NDJSON file ${r.file.contactsPerSecond.toLocaleString('en')} contacts/s (${r.file.wallSeconds} s) = ${r.ratio}`,
      `worker peak RSS: SQL run ${r.sql.workerPeakRssMb} MB, file run ${r.file.workerPeakRssMb} MB; nothing lost: ${r.nothingLost}`,
    ],
  },
  {
    id: 'workers',
    title: 'Two worker processes, one Professional account, 2 × 50,000 members',
    goal: 'combined throughput ÷ ceiling; the highest 10-second window never above the limit',
    run: () => benchSeveralWorkers() as unknown as Promise<Record<string, unknown>>,
    met: (r) => r.maxRequestsIn10s <= r.limitPer10s && r.nothingLost,
    figures: (r) => [
      `${r.contactsPerSecond.toLocaleString('en')} contacts/s ÷ ceiling ${r.ceilingContactsPerSecond.toLocaleString('en')} = ${(r.contactsPerSecond / r.ceilingContactsPerSecond).toFixed(3)}; window ratio ${r.ratio} (${r.idealSeconds} s allowed, ${r.measuredSeconds} s measured)`,
      `highest 10-second window ${r.maxRequestsIn10s} (limit ${r.limitPer10s}); 429s ${(r.rate429 * 100).toFixed(2)}%; nothing lost: ${r.nothingLost}`,
    ],
  },
];

function render(
  results: Array<{ bench: Bench; result?: Record<string, unknown>; error?: string; seconds: number }>,
  command: string,
): string {
  const m = machine();
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`${command}\` on ${new Date().toISOString().slice(0, 10)} — ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB RAM, Node ${m.node}, ${os.platform()}.`,
    '',
    'Method: every part runs as in production, each in its own process on this machine — the HubSpot simulator',
    '(`npm run hubspot-sim`), a Temporal dev server (official CLI, SQLite file), worker processes, and the API',
    '(in the driver). Members are deterministic synthetic XDM profiles read from NDJSON files by the workers.',
    'The machine is shared and noisy, so figures are ratios measured within one run (e.g. achieved time ÷ the',
    "shortest time HubSpot's rolling window allows), not absolute times.",
    '',
    '| Benchmark | Goal | Result | Met |',
    '|---|---|---|---|',
  ];
  for (const { bench, result, error } of results) {
    const figures = result ? bench.figures(result).join('<br>') : `failed: ${error}`;
    lines.push(`| ${bench.title} | ${bench.goal} | ${figures} | ${result ? (bench.met(result) ? 'yes' : '**no**') : '**error**'} |`);
  }
  lines.push(
    '',
    `Raw figures: \`bench/out/results.json\`. Each benchmark: \`npm run bench -- --only <id>\` with id in ${BENCHES.map((b) => `\`${b.id}\``).join(', ')}.`,
    '',
  );
  const notes = path.join(__dirname, 'notes.md');
  if (fs.existsSync(notes)) lines.push(fs.readFileSync(notes, 'utf8'));
  return lines.join('\n');
}

async function main(): Promise<void> {
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg >= 0 ? process.argv[onlyArg + 1].split(',') : undefined;
  const selected = BENCHES.filter((b) => !only || only.includes(b.id));
  const results: Array<{ bench: Bench; result?: Record<string, unknown>; error?: string; seconds: number }> = [];
  for (const bench of selected) {
    const started = Date.now();
    process.stderr.write(`\n== ${bench.title} ...\n`);
    try {
      const result = await bench.run();
      results.push({ bench, result, seconds: (Date.now() - started) / 1000 });
      process.stderr.write(`${bench.figures(result).join('\n')}\n`);
    } catch (err) {
      results.push({ bench, error: (err as Error).message, seconds: (Date.now() - started) / 1000 });
      process.stderr.write(`failed: ${(err as Error).stack}\n`);
    }
  }
  const command = `npm run bench${only ? ` -- --only ${only.join(',')}` : ''}`;
  fs.mkdirSync(path.join(ROOT, 'bench', 'out'), { recursive: true });
  fs.writeFileSync(
    path.join(ROOT, 'bench', 'out', 'results.json'),
    JSON.stringify(
      results.map((r) => ({ id: r.bench.id, seconds: r.seconds, result: r.result, error: r.error })),
      null,
      2,
    ),
  );
  if (!only) fs.writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), render(results, command));
  else process.stderr.write('\n(--only: BENCHMARKS.md left unchanged; figures in bench/out/results.json)\n');
  process.exit(results.some((r) => r.error) ? 1 : 0);
}

void main();
