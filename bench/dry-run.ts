/**
 * Dry-run benchmark (issue 17): a dry run of 100,000 members on a Professional account (190 calls per
 * 10 s). Cost: HubSpot calls ÷ the minimum (one batch read per 100 members) ≤ 1.02. Speed: the shortest
 * time the rolling window allows for those calls ÷ measured ≥ 0.95 (as the ceiling benches measure it).
 * Zero write calls, every member planned.
 */
import { activationTimes, BENCH_AUDIENCE, benchDestination, idealSeconds, membersFile, simStats, startBenchStack } from './lib/harness';

export interface DryRunResult {
  members: number;
  calls: number;
  readCalls: number;
  minimumReadCalls: number;
  costRatio: number;
  writeCalls: number;
  idealSeconds: number;
  measuredSeconds: number;
  ratio: number;
  rate429: number;
  planned: number;
  allPlanned: boolean;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export async function benchDryRun(members = 100_000): Promise<DryRunResult> {
  const stack = await startBenchStack();
  try {
    await stack.startWorkers(1);
    const file = membersFile(members);
    const { destinationId, portalId } = await benchDestination(stack, { tier: 'pro' });
    await stack.sim.admin.delete('/stats');
    const started = await stack.request('POST', `/v1/destinations/${destinationId}/activations`, {
      audience: BENCH_AUDIENCE,
      source: { path: file },
      options: { dryRun: true },
    });
    if (started.status !== 202) throw new Error(`dry run: ${started.status} ${JSON.stringify(started.body)}`);
    const activationId = started.body.activationId as string;
    let end: {
      status: string;
      summary?: { received: number; plan?: { create: number; update: number; unchanged: number; reject: number } };
    };
    for (;;) {
      end = (await stack.request('GET', `/v1/activations/${activationId}`)).body;
      if (['completed', 'completed_with_rejections', 'failed', 'cancelled'].includes(end.status)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const t = await activationTimes(stack.client, activationId);
    const stats = await simStats(stack);
    const portal = stats.portals[String(portalId)];
    let readCalls = 0;
    let writeCalls = 0;
    for (const [route, byStatus] of Object.entries(stats.byRoute)) {
      const n = Object.values(byStatus).reduce((a, b) => a + b, 0);
      if (route.endsWith('/batch/read')) readCalls += n;
      if (/batch\/(upsert|update|create)$/.test(route) || /^(PATCH|DELETE) /.test(route)) writeCalls += n;
    }
    const minimumReadCalls = Math.ceil(members / 100);
    const measured = (t.endMs - t.startMs) / 1000;
    const ideal = idealSeconds(portal.requests, 190);
    const p = end.summary?.plan;
    const planned = p ? p.create + p.update + p.unchanged + p.reject : 0;
    return {
      members,
      calls: portal.requests,
      readCalls,
      minimumReadCalls,
      costRatio: round(portal.requests / minimumReadCalls, 4),
      writeCalls,
      idealSeconds: ideal,
      measuredSeconds: round(measured),
      ratio: round(ideal / measured, 3),
      rate429: round(portal.rateLimited / portal.requests, 4),
      planned,
      allPlanned: end.status === 'completed' && planned === members && end.summary?.received === members,
    };
  } finally {
    await stack.stop();
  }
}
