/** The confirmed-state memory on both back ends: embedded SQLite (temp dir) and a throwaway PostgreSQL database. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprint } from '../../../src/dataflow/fingerprint';
import { SqlContactMemory, type ConfirmRow, type ContactMemory } from '../../../src/store/contact-memory';
import { openDb, type Db } from '../../../src/store/db';
import { createMemoryKeyHasher, emailHashKey } from '../../../src/streaming/email-hash';
import { ThreadedContactMemory } from '../../../src/store/contact-memory-thread';
import { createTempDatabase } from '../../helpers/postgres';

const ring = { primaryId: 'k1', keys: new Map([['k1', crypto.randomBytes(32)]]) };
const hasher = createMemoryKeyHasher(ring);
const DEST = 'dst_memory';
const emailOf = (i: number): string => `person${i}@example.com`;
const keyOf = (i: number, dest = DEST): string => hasher(dest, emailOf(i));
const fpOf = (i: number, v = 'a'): string => fingerprint({ firstname: `First${i}`, city: v });

interface Backend {
  name: string;
  /** The memory under test and a connection to its database, for looking at what it stores. */
  open(): Promise<{ db: Db; memory: ContactMemory; cleanup(): Promise<void> }>;
}

/** The memory over `db` (in process) or over the same database from its worker thread. */
async function open(where: { sqlitePath: string; databaseUrl?: string; drop(): Promise<void> }, threaded: boolean) {
  const { drop, ...spec } = where;
  const db = openDb(spec);
  const memory: ContactMemory = threaded
    ? new ThreadedContactMemory({ ...spec, hashKey: emailHashKey(ring) }, hasher)
    : new SqlContactMemory(db, hasher);
  return {
    db,
    memory,
    cleanup: async () => {
      await memory.close?.();
      if (db.dialect === 'pg') await db.close();
      await drop();
    },
  };
}

function sqlite(threaded: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contact-memory-'));
  return open({ sqlitePath: path.join(dir, 'memory.db'), drop: async () => fs.rmSync(dir, { recursive: true, force: true }) }, threaded);
}

async function postgres(threaded: boolean) {
  const temp = await createTempDatabase();
  return open({ databaseUrl: temp.url, sqlitePath: '', drop: () => temp.drop() }, threaded);
}

const backends: Backend[] = [
  { name: 'SQLite', open: () => sqlite(false) },
  { name: 'PostgreSQL', open: () => postgres(false) },
  { name: 'SQLite, in its worker thread', open: () => sqlite(true) },
  { name: 'PostgreSQL, in its worker thread', open: () => postgres(true) },
];

/** Bytes compare as the memory orders its keys (keyset paging is by the raw key). */
const keyAfter = (a: string, b: string) => b === '' || Buffer.compare(Buffer.from(a, 'base64url'), Buffer.from(b, 'base64url')) > 0;

describe.each(backends)('contact memory on $name', (backend) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let memory: ContactMemory;

  beforeAll(async () => {
    ({ db, memory, cleanup } = await backend.open());
  });
  afterAll(async () => {
    await cleanup();
    if (db.dialect === 'sqlite') await db.close();
  });
  beforeEach(async () => {
    await memory.forget(DEST);
    await memory.forget('dst_other');
  });

  /** Every page of absent members, checking the keyset order on the way. */
  async function allAbsent(audience: string | string[], runId: string, limit: number): Promise<{ keys: string[]; pages: number }> {
    const keys: string[] = [];
    let after = '';
    let pages = 0;
    for (;;) {
      const page = await memory.pageAbsentMembers(DEST, audience, runId, after, limit);
      if (page.length === 0) break;
      pages++;
      expect(page.length).toBeLessThanOrEqual(limit);
      for (const r of page) {
        expect(keyAfter(r.keyHash, after)).toBe(true);
        after = r.keyHash;
        keys.push(r.keyHash);
      }
    }
    return { keys, pages };
  }

  it('remembers confirmed contacts: lookup returns fingerprint, record id and statuses', async () => {
    await memory.confirm(DEST, [
      { keyHash: keyOf(1), fingerprint: fpOf(1), recordId: '1001', statuses: { A: 'realized', B: 'existing' } },
      { keyHash: keyOf(2), fingerprint: fpOf(2), recordId: '1002', statuses: { A: 'exited' } },
    ]);
    const found = await memory.lookup(DEST, [keyOf(1), keyOf(2), keyOf(3)]);
    expect(found.size).toBe(2);
    expect(found.get(keyOf(1))).toEqual({
      keyHash: keyOf(1),
      fingerprint: fpOf(1),
      recordId: '1001',
      statuses: { A: 'realized', B: 'existing' },
    });
    expect(found.get(keyOf(2))?.statuses).toEqual({ A: 'exited' });
    expect(found.has(keyOf(3))).toBe(false);
    expect(await memory.count(DEST)).toBe(2);
    // Another destination's memory is separate (and its hashes differ too).
    expect((await memory.lookup('dst_other', [keyOf(1)])).size).toBe(0);
  });

  it('holds only what was confirmed: seen or unconfirmed contacts leave no row, later confirms merge', async () => {
    const batch = [1, 2, 3, 4].map((i) => keyOf(i));
    await memory.markSeen(DEST, 'run-1', batch);
    expect(await memory.count(DEST)).toBe(0);
    // HubSpot accepted 1 and 3, rejected 2 and 4: the caller confirms 1 and 3 only.
    await memory.confirm(DEST, [
      { keyHash: keyOf(1), fingerprint: fpOf(1), recordId: '11', statuses: { A: 'realized' } },
      { keyHash: keyOf(3), fingerprint: fpOf(3), recordId: '33', statuses: { A: 'realized' } },
    ]);
    expect([...(await memory.lookup(DEST, batch)).keys()].sort()).toEqual([keyOf(1), keyOf(3)].sort());

    // A later run of audience B (no record id in its answer, a partial write): A's status and the record
    // id are kept, the fingerprint becomes unknown.
    await memory.confirm(DEST, [{ keyHash: keyOf(1), fingerprint: null, statuses: { B: 'existing' } }]);
    expect((await memory.lookup(DEST, [keyOf(1)])).get(keyOf(1))).toEqual({
      keyHash: keyOf(1),
      fingerprint: null,
      recordId: '11',
      statuses: { A: 'realized', B: 'existing' },
    });
  });

  it('pages absent members of an audience over several pages, honouring the run marker', async () => {
    const rows: ConfirmRow[] = [];
    for (let i = 0; i < 40; i++) {
      // A: realized (i%4=0), existing (1), exited (2), not a member (3, only B).
      const a = (['realized', 'existing', 'exited', undefined] as const)[i % 4];
      rows.push({ keyHash: keyOf(i), fingerprint: fpOf(i), recordId: String(5000 + i), statuses: a ? { A: a } : { B: 'realized' } });
    }
    await memory.confirm(DEST, rows);
    const seen = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => keyOf(i));
    await memory.markSeen(DEST, 'run-7', seen);
    // Another run's marks (an overlapping run of other audiences) must not count for run-7.
    await memory.markSeen(
      DEST,
      'run-8',
      [12, 13, 16, 17].map((i) => keyOf(i)),
    );

    const expected = rows
      .map((r, i) => ({ k: r.keyHash, i }))
      .filter(({ i }) => i >= 10 && i % 4 <= 1)
      .map(({ k }) => k)
      .sort();
    expect(expected).toHaveLength(14);
    const { keys, pages } = await allAbsent('A', 'run-7', 4);
    expect(pages).toBe(4);
    expect([...keys].sort()).toEqual(expected);
    expect(new Set(keys).size).toBe(keys.length);

    // Rows carry the record id, to write the exit by id.
    const first = await memory.pageAbsentMembers(DEST, 'A', 'run-7', '', 1);
    expect(first[0].recordId).toBe(String(5000 + rows.findIndex((r) => r.keyHash === first[0].keyHash)));

    // Several audiences at once: members of A or B.
    const both = await allAbsent(['A', 'B'], 'run-7', 7);
    expect(both.keys).toHaveLength(14 + 8);
    // Without a seen set every member is absent; once the run ends its set is gone.
    expect((await allAbsent('A', 'run-never', 100)).keys).toHaveLength(20);
    await memory.endRun(DEST, 'run-7');
    expect((await allAbsent('A', 'run-7', 100)).keys).toHaveLength(20);
    expect((await allAbsent('A', 'run-8', 100)).keys).toHaveLength(16);
  });

  it('records exits: exited contacts leave the absent list, other audiences and the fingerprint stay', async () => {
    await memory.confirm(
      DEST,
      [1, 2, 3].map((i) => ({ keyHash: keyOf(i), fingerprint: fpOf(i), recordId: String(i), statuses: { A: 'realized', B: 'realized' } })),
    );
    await memory.markSeen(DEST, 'run-x', [keyOf(3)]);
    const absent = await allAbsent('A', 'run-x', 10);
    expect([...absent.keys].sort()).toEqual([keyOf(1), keyOf(2)].sort());

    await memory.recordExits(
      DEST,
      absent.keys.map((keyHash) => ({ keyHash, audienceIds: ['A'] })),
    );
    expect((await allAbsent('A', 'run-x', 10)).keys).toEqual([]);
    const after = await memory.lookup(DEST, [keyOf(1), keyOf(3)]);
    expect(after.get(keyOf(1))).toEqual({
      keyHash: keyOf(1),
      fingerprint: fpOf(1),
      recordId: '1',
      statuses: { A: 'exited', B: 'realized' },
    });
    expect(after.get(keyOf(3))?.statuses).toEqual({ A: 'realized', B: 'realized' });
    // Still a member of B, so still listed for B.
    expect((await allAbsent('B', 'run-x', 10)).keys.sort()).toEqual([keyOf(1), keyOf(2)].sort());

    // Several audiences at once, and a contact HubSpot no longer has.
    await memory.recordExits(DEST, [{ keyHash: keyOf(2), audienceIds: ['B', 'A'] }]);
    expect((await memory.lookup(DEST, [keyOf(2)])).get(keyOf(2))?.statuses).toEqual({ A: 'exited', B: 'exited' });
    await memory.forgetContacts(DEST, [keyOf(1)]);
    expect(await memory.count(DEST)).toBe(2);
  });

  it('forget resets one destination only', async () => {
    await memory.confirm(DEST, [{ keyHash: keyOf(1), fingerprint: fpOf(1), recordId: '1', statuses: { A: 'realized' } }]);
    await memory.confirm('dst_other', [{ keyHash: keyOf(1, 'dst_other'), fingerprint: fpOf(1), statuses: { A: 'realized' } }]);
    await memory.markSeen(DEST, 'run-f', [keyOf(1)]);
    await memory.forget(DEST);
    expect(await memory.count(DEST)).toBe(0);
    expect((await memory.lookup(DEST, [keyOf(1)])).size).toBe(0);
    expect(await memory.count('dst_other')).toBe(1);
    const seenLeft = await db.query<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM memory_seen s JOIN memory_ids d ON d.n = s.dest AND d.kind = 'destination' WHERE d.name = $1",
      [DEST],
    );
    expect(Number(seenLeft[0].n)).toBe(0);
  });

  it('is crash-safe: retried markSeen, confirm and recordExits are harmless, duplicates in a batch too', async () => {
    const rows: ConfirmRow[] = Array.from({ length: 1300 }, (_, i) => ({
      keyHash: keyOf(i),
      fingerprint: fpOf(i),
      recordId: String(i),
      statuses: { A: 'realized' },
    }));
    await memory.confirm(DEST, rows);
    const snapshot = await memory.lookup(
      DEST,
      rows.map((r) => r.keyHash),
    );
    expect(snapshot.size).toBe(1300);
    // The activity is retried after a crash: the same batch is confirmed again, seen again.
    await memory.confirm(DEST, rows);
    await memory.confirm(DEST, [rows[5], rows[5], { ...rows[5], recordId: undefined, statuses: { B: 'existing' } }]);
    for (let k = 0; k < 2; k++) await memory.markSeen(DEST, 'run-c', [...rows.slice(0, 1000).map((r) => r.keyHash), keyOf(0)]);
    expect(await memory.count(DEST)).toBe(1300);
    const again = await memory.lookup(
      DEST,
      rows.map((r) => r.keyHash),
    );
    expect(again.get(keyOf(5))).toEqual({ ...snapshot.get(keyOf(5)), statuses: { A: 'realized', B: 'existing' } });
    again.delete(keyOf(5));
    snapshot.delete(keyOf(5));
    expect(again).toEqual(snapshot);
    const seenRows = await db.query<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM memory_seen s JOIN memory_ids r ON r.n = s.run AND r.kind = 'run' WHERE r.name = $1",
      ['run-c'],
    );
    expect(Number(seenRows[0].n)).toBe(1000);

    const absent = await allAbsent('A', 'run-c', 128);
    expect(absent.keys).toHaveLength(300);
    const exits = absent.keys.map((keyHash) => ({ keyHash, audienceIds: ['A'] }));
    await memory.recordExits(DEST, exits);
    await memory.recordExits(DEST, exits);
    expect((await allAbsent('A', 'run-c', 128)).keys).toHaveLength(0);
    expect((await memory.lookup(DEST, [absent.keys[0]])).get(absent.keys[0])?.statuses).toEqual({ A: 'exited' });
  });

  it('stores no email: only keyed hashes, fingerprints, record ids and status codes', async () => {
    await memory.confirm(DEST, [{ keyHash: keyOf(42), fingerprint: fpOf(42), recordId: '42', statuses: { A: 'realized' } }]);
    await memory.markSeen(DEST, 'run-e', [keyOf(42)]);
    const hex = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v);
    const dump = JSON.stringify(
      [
        ...(await db.query('SELECT * FROM memory_contacts')),
        ...(await db.query('SELECT * FROM memory_seen')),
        ...(await db.query('SELECT * FROM memory_ids')),
      ].map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, hex(v)]))),
    );
    expect(dump).toContain(Buffer.from(keyOf(42), 'base64url').toString('hex'));
    expect(dump).not.toContain('person42');
    expect(dump).not.toContain('example.com');
  });

  it('creates its own tables (on SQLite without rowid: the keys are stored once)', async () => {
    if (db.dialect === 'sqlite') {
      const rows = await db.query<{ name: string; sql: string }>(
        "SELECT name, sql FROM sqlite_master WHERE name IN ('memory_contacts', 'memory_seen') AND type = 'table' ORDER BY name",
      );
      expect(rows.map((r) => [r.name, r.sql.endsWith('WITHOUT ROWID')])).toEqual([
        ['memory_contacts', true],
        ['memory_seen', true],
      ]);
    } else {
      const rows = await db.query<{ n: string }>("SELECT COUNT(*) AS n FROM pg_tables WHERE tablename LIKE 'memory_%'");
      expect(Number(rows[0].n)).toBe(3);
    }
  });

  it('refuses an audience id that is not a plain id', async () => {
    await expect(memory.pageAbsentMembers(DEST, `A"]') OR 1=1 --`, 'r', '', 10)).rejects.toThrow(/plain id/);
    // An own `__proto__` key, as JSON.parse makes one from a request body.
    const proto = JSON.parse('{"__proto__": "realized"}') as Record<string, 'realized'>;
    await expect(memory.confirm(DEST, [{ keyHash: keyOf(1), fingerprint: null, statuses: proto }])).rejects.toThrow(/plain id/);
    expect(await memory.count(DEST)).toBe(0);
    await expect(memory.recordExits(DEST, [{ keyHash: keyOf(1), audienceIds: ['a b'] }])).rejects.toThrow(/plain id/);
  });
});
