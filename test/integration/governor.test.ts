/**
 * The shared rate governor against the simulator: several independent governors (as in separate worker
 * processes) over one store keep an account under HubSpot's ten-second limit with no 429s, both on the
 * embedded SQLite store and on PostgreSQL; and they slow down for calls made outside them.
 */
import path from 'node:path';
import axios from 'axios';
import { SharedRateGovernor } from '../../src/governor/governor';
import { DEFAULT_POLICY } from '../../src/governor/policy';
import { HubSpotClient } from '../../src/hubspot/client';
import { startHubSpotSimulator, type RunningSimulator } from '../../src/hubspot-sim';
import { openDb, type Db } from '../../src/store/db';
import { createTempDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/stack';

jest.setTimeout(120_000);

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startHubSpotSimulator({ port: 0 });
});
afterAll(async () => {
  await sim.close();
});

/** `workers` governors, each with its own store connection, sending `calls` list requests at concurrency 4 each. */
async function hammer(dbs: Db[], token: string, accountKey: string, calls: number): Promise<{ ms: number }> {
  let left = calls;
  const started = Date.now();
  await Promise.all(
    dbs.flatMap((db) => {
      const client = new HubSpotClient({ baseUrl: sim.url, token, governor: new SharedRateGovernor(db, DEFAULT_POLICY), accountKey });
      return Array.from({ length: 4 }, async () => {
        while (left > 0) {
          left--;
          await client.listPropertyGroups();
        }
      });
    }),
  );
  return { ms: Date.now() - started };
}

async function check(openStores: () => Db[]) {
  const { portalId, token } = sim.admin.createAccount({});
  const limit = 25;
  sim.admin.setLimits(portalId, { tenSecondly: limit });
  sim.admin.resetStats();
  const dbs = openStores();
  try {
    const { ms } = await hammer(dbs, token, `portal:${portalId}`, 2 * limit + 5);
    const stats = sim.admin.stats().portals[String(portalId)];
    expect(stats.rateLimited).toBe(0);
    expect(stats.maxRequestsIn10s).toBeLessThanOrEqual(limit);
    // 55 calls at 25 per 10 s cannot take less than 20 s; pacing should not take much more.
    expect(ms).toBeGreaterThanOrEqual(20_000);
  } finally {
    for (const db of dbs) await db.close();
  }
}

test('three processes sharing the embedded SQLite store stay under the limit with no 429s', async () => {
  const file = path.join(tempDir(), 'shared.db');
  await check(() => [0, 1, 2].map(() => openDb({ sqlitePath: file })));
});

test('three hosts sharing PostgreSQL stay under the limit with no 429s', async () => {
  const pg = await createTempDatabase();
  try {
    await check(() => [0, 1, 2].map(() => openDb({ databaseUrl: pg.url, sqlitePath: '' })));
  } finally {
    await pg.drop();
  }
});

test("HubSpot's Remaining header makes the governor yield to calls made outside it", async () => {
  const { portalId, token } = sim.admin.createAccount({});
  const limit = 20;
  sim.admin.setLimits(portalId, { tenSecondly: limit });
  // Another integration on the same account spends 12 calls of the window.
  for (let i = 0; i < 12; i++) {
    await axios.get(`${sim.url}/crm/v3/properties/contacts/groups`, { headers: { Authorization: `Bearer ${token}` } });
  }
  sim.admin.resetStats();
  const db = openDb({ sqlitePath: path.join(tempDir(), 'one.db') });
  try {
    const client = new HubSpotClient({
      baseUrl: sim.url,
      token,
      governor: new SharedRateGovernor(db, DEFAULT_POLICY),
      accountKey: `portal:${portalId}`,
    });
    for (let i = 0; i < 12; i++) await client.listPropertyGroups();
    expect(sim.admin.stats().portals[String(portalId)].rateLimited).toBe(0);
  } finally {
    await db.close();
  }
});
