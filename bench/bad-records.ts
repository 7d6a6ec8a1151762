/**
 * Calls per bad record that only HubSpot can refuse, under `upsertPartial: "all-or-nothing"` (every bad
 * record fails its whole batch with a 400): batches of 100 through `sendBatch` against the in-process
 * simulator, with 1 bad record per batch and with 5% bad. "Named" bad values (an enumeration value that is
 * not an option: HubSpot's 400 quotes it) are resolved from the answer; "unnamed" ones (a property that does
 * not exist: the answer quotes no value) take the bisection fallback, the cost every bad record had before.
 */
import { sendBatch } from '../src/delivery/send-batch';
import { HubSpotClient } from '../src/hubspot/client';
import { startHubSpotSimulator } from '../src/hubspot-sim';
import type { PreparedContact } from '../src/mapping/types';

interface Case {
  batches: number;
  badPerBatch: number;
  kind: 'named' | 'unnamed';
}

export interface BadRecordFigures {
  cases: Array<Case & { calls: number; badRecords: number; extraCallsPerBadRecord: number; nothingLost: boolean }>;
  /** The goal's figure: 1 bad record per batch, named. */
  extraCallsPerBadRecord: number;
}

export async function benchBadRecords(): Promise<BadRecordFigures> {
  // Rate limits out of the way: the figure is calls, not time.
  const sim = await startHubSpotSimulator({ port: 0, tierLimits: { enterprise: { tenSecondly: 1_000_000, daily: 100_000_000 } } });
  const route = 'POST /crm/v3/objects/contacts/batch/upsert';
  const cases: BadRecordFigures['cases'] = [];
  try {
    for (const c of [
      { batches: 20, badPerBatch: 1, kind: 'named' },
      { batches: 20, badPerBatch: 5, kind: 'named' },
      { batches: 20, badPerBatch: 1, kind: 'unnamed' },
      { batches: 20, badPerBatch: 5, kind: 'unnamed' },
    ] as Case[]) {
      const { portalId, token } = sim.admin.createAccount({ tier: 'enterprise' });
      sim.admin.setBehaviour(portalId, { upsertPartial: 'all-or-nothing' });
      sim.admin.resetStats();
      const client = new HubSpotClient({ baseUrl: sim.url, token, timeoutMs: 5000 });
      let upserted = 0;
      let rejected = 0;
      for (let b = 0; b < c.batches; b++) {
        const batch: PreparedContact[] = Array.from({ length: 100 }, (_, i) => {
          const email = `b${b}-${i}-${c.kind}${c.badPerBatch}@example.com`;
          const properties: Record<string, string> = { email, firstname: `F${i}` };
          // Spread the bad ones over the batch (positions 7, 27, 47, …).
          if (i % Math.floor(100 / c.badPerBatch) === 7) {
            if (c.kind === 'named') properties.lifecyclestage = `not-a-stage-${i}`;
            else properties.no_such_property = 'x';
          }
          return { line: b * 100 + i + 1, email, status: 'realized', properties };
        });
        const out = await sendBatch(client, batch, { sleep: async () => undefined });
        upserted += out.upserted.length;
        rejected += out.rejected.length;
      }
      const calls = Object.values(sim.admin.stats().byRoute[route] ?? {}).reduce((a, n) => a + n, 0);
      const badRecords = c.batches * c.badPerBatch;
      cases.push({
        ...c,
        calls,
        badRecords,
        extraCallsPerBadRecord: Number(((calls - c.batches) / badRecords).toFixed(2)),
        nothingLost: upserted + rejected === c.batches * 100 && rejected === badRecords,
      });
    }
  } finally {
    await sim.close();
  }
  return { cases, extraCallsPerBadRecord: cases[0].extraCallsPerBadRecord };
}
