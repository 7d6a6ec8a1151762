/**
 * A memory kept by the earlier version (text keys of 32 bytes in the store's `contact_memory` tables) is
 * moved into the compact one on first use: same contacts, fingerprints, record ids, statuses and seen sets,
 * so an upgrade causes no resend and no wrong exit; the old tables are dropped.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprint } from '../../../src/dataflow/fingerprint';
import { SqlContactMemory } from '../../../src/store/contact-memory';
import { openDb, type Db } from '../../../src/store/db';
import { createEmailHasher, createMemoryKeyHasher } from '../../../src/streaming/email-hash';
import { createTempDatabase } from '../../helpers/postgres';

const ring = { primaryId: 'k1', keys: new Map([['k1', crypto.randomBytes(32)]]) };
const oldKey = createEmailHasher(ring);
const newKey = createMemoryKeyHasher(ring);
const DEST = 'dst_legacy';
const N = 2_500; // more than one import page

const LEGACY_DDL = [
  `CREATE TABLE contact_memory (destination_id TEXT NOT NULL, key_hash TEXT NOT NULL, fingerprint TEXT, record_id TEXT,
     statuses TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (destination_id, key_hash))`,
  `CREATE TABLE contact_memory_seen (destination_id TEXT NOT NULL, run_id TEXT NOT NULL, key_hash TEXT NOT NULL,
     PRIMARY KEY (destination_id, run_id, key_hash))`,
];

async function writeLegacy(store: Db): Promise<void> {
  await store.migrate(LEGACY_DDL);
  for (let i = 0; i < N; i += 500) {
    const rows = Array.from({ length: 500 }, (_, j) => i + j).map((n) => [
      oldKey(DEST, `p${n}@example.com`),
      fingerprint({ city: `c${n}` }),
      n % 3 === 0 ? null : String(1000 + n),
      n % 2 ? '{"aud-a":"r","aud-b":"x"}' : '{"aud-a":"e"}',
    ]);
    for (const r of rows) await store.query('INSERT INTO contact_memory VALUES ($1, $2, $3, $4, $5)', [DEST, ...r]);
  }
  // A run in flight across the upgrade had seen the first 100 contacts.
  for (let n = 0; n < 100; n++)
    await store.query('INSERT INTO contact_memory_seen VALUES ($1, $2, $3)', [DEST, 'run-1', oldKey(DEST, `p${n}@example.com`)]);
}

const backends = [
  {
    name: 'SQLite (memory in its own file)',
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memory-legacy-'));
      const store = openDb({ sqlitePath: path.join(dir, 'destination.db') });
      const own = openDb({ sqlitePath: path.join(dir, 'contact-memory.db') });
      return {
        store,
        own,
        cleanup: async () => {
          await store.close();
          await own.close();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL (same database)',
    async open() {
      const temp = await createTempDatabase();
      const store = openDb({ databaseUrl: temp.url, sqlitePath: '' });
      return {
        store,
        own: store,
        cleanup: async () => {
          await store.close();
          await temp.drop();
        },
      };
    },
  },
];

describe.each(backends)('legacy memory on $name', (backend) => {
  test('is moved in whole on first use, and the old tables are dropped', async () => {
    const { store, own, cleanup } = await backend.open();
    try {
      await writeLegacy(store);
      const memory = new SqlContactMemory(own, newKey, { legacyFrom: store });
      expect(await memory.count(DEST)).toBe(N);
      const keys = Array.from({ length: N }, (_, n) => newKey(DEST, `p${n}@example.com`));
      const rows = new Map<string, unknown>();
      for (let i = 0; i < N; i += 1000) for (const [k, v] of await memory.lookup(DEST, keys.slice(i, i + 1000))) rows.set(k, v);
      expect(rows.size).toBe(N);
      expect(rows.get(keys[7])).toEqual({
        keyHash: keys[7],
        fingerprint: fingerprint({ city: 'c7' }),
        recordId: '1007',
        statuses: { 'aud-a': 'realized', 'aud-b': 'exited' },
      });
      expect(rows.get(keys[9])).toMatchObject({ recordId: null, statuses: { 'aud-a': 'realized', 'aud-b': 'exited' } });
      expect(rows.get(keys[10])).toMatchObject({ recordId: '1010', statuses: { 'aud-a': 'existing' } });

      // The in-flight run's seen set came along: only the other members are absent for it.
      let absent = 0;
      for (let after = ''; ;) {
        const page = await memory.pageAbsentMembers(DEST, 'aud-a', 'run-1', after, 1000);
        if (page.length === 0) break;
        absent += page.length;
        after = page[page.length - 1].keyHash;
      }
      expect(absent).toBe(N - 100);

      const left =
        store.dialect === 'pg'
          ? await store.query("SELECT tablename FROM pg_tables WHERE tablename LIKE 'contact_memory%'")
          : await store.query("SELECT name FROM sqlite_master WHERE name LIKE 'contact_memory%'");
      expect(left).toEqual([]);
      // A second start finds nothing to move.
      expect(await new SqlContactMemory(own, newKey, { legacyFrom: store }).importLegacy(store)).toBe(0);
    } finally {
      await cleanup();
    }
  });
});
