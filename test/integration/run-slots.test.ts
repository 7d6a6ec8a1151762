/**
 * The run slot of a destination × audience (issue 18 item 4, docs/decisions.md 12) on both store back
 * ends: of many claims at once from several processes exactly one wins; a held slot is only taken over
 * when its holder is free; a release only gives back the releaser's own claim.
 */
import path from 'node:path';
import { RunSlots } from '../../src/store/activations';
import { openDb, type Db } from '../../src/store/db';
import { createTempDatabase } from '../helpers/postgres';
import { tempDir } from '../helpers/stack';

async function check(dbs: Db[]): Promise<void> {
  try {
    const slots = dbs.map((db) => new RunSlots(db));
    const busy = async () => false;

    // 12 claims at once over the processes: exactly one wins, the others are told who holds the slot.
    const claims = await Promise.all(
      Array.from({ length: 12 }, (_, i) => slots[i % slots.length].claim('dst-1', 'aud-1', `act-${i}`, busy)),
    );
    const winners = claims.flatMap((c, i) => (c.ok ? [`act-${i}`] : []));
    expect(winners).toHaveLength(1);
    for (const c of claims) if (!c.ok) expect(c.holder.activationId).toBe(winners[0]);
    expect((await slots[1].holder('dst-1', 'aud-1'))?.activationId).toBe(winners[0]);

    // Another audience, or the same audience on another destination, is another slot.
    expect(await slots[0].claim('dst-1', 'aud-2', 'act-b', busy)).toEqual({ ok: true });
    expect(await slots[0].claim('dst-2', 'aud-1', 'act-c', busy)).toEqual({ ok: true });

    // A holder that is no longer running is taken over — by exactly one of several claims (a fresh claim is busy).
    const free = async (h: { activationId: string }) => h.activationId === winners[0];
    const takeovers = await Promise.all(['x', 'y', 'z'].map((s, i) => slots[i % slots.length].claim('dst-1', 'aud-1', `act-${s}`, free)));
    expect(takeovers.filter((c) => c.ok)).toHaveLength(1);
    const holder = (await slots[0].holder('dst-1', 'aud-1'))!.activationId;
    expect(['act-x', 'act-y', 'act-z']).toContain(holder);

    // Release gives back only one's own claim.
    await slots[0].release('dst-1', 'aud-1', 'act-someone-else');
    expect((await slots[0].holder('dst-1', 'aud-1'))?.activationId).toBe(holder);
    await slots[1].release('dst-1', 'aud-1', holder);
    expect(await slots[0].holder('dst-1', 'aud-1')).toBeUndefined();
    expect(await slots[2].claim('dst-1', 'aud-1', 'act-next', busy)).toEqual({ ok: true });
  } finally {
    for (const db of dbs) await db.close();
  }
}

test('run slots on the embedded SQLite store shared by three processes', async () => {
  const file = path.join(tempDir(), 'slots.db');
  await check([0, 1, 2].map(() => openDb({ sqlitePath: file })));
});

test('run slots on PostgreSQL shared by three hosts', async () => {
  const pg = await createTempDatabase();
  try {
    await check([0, 1, 2].map(() => openDb({ databaseUrl: pg.url, sqlitePath: '' })));
  } finally {
    await pg.drop();
  }
});
