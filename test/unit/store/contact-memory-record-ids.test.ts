/** `updateRecordIds` (a merged contact's new id) on both back ends: only the record id changes, other destinations are untouched. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprint } from '../../../src/dataflow/fingerprint';
import { SqlContactMemory } from '../../../src/store/contact-memory';
import { openDb, type Db } from '../../../src/store/db';
import { migrate } from '../../../src/store/schema';
import { createMemoryKeyHasher } from '../../../src/streaming/email-hash';
import { createTempDatabase } from '../../helpers/postgres';

const hash = createMemoryKeyHasher({ primaryId: 'k1', keys: new Map([['k1', crypto.randomBytes(32)]]) });
const fp = (i: number) => fingerprint({ i: String(i) });
const key = (i: number, dest = 'dst_ids') => hash(dest, `p${i}@example.com`);

const backends = [
  {
    name: 'SQLite',
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memory-ids-'));
      return {
        db: openDb({ sqlitePath: path.join(dir, 'store.db') }),
        cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const temp = await createTempDatabase();
      return { db: openDb({ databaseUrl: temp.url, sqlitePath: '' }), cleanup: () => temp.drop() };
    },
  },
];

describe.each(backends)('updateRecordIds on $name', (backend) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let memory: SqlContactMemory;
  beforeAll(async () => {
    ({ db, cleanup } = await backend.open());
    await migrate(db);
    memory = new SqlContactMemory(db, hash);
  });
  afterAll(async () => {
    await db.close();
    await cleanup();
  });

  test('replaces the record ids named, keeps fingerprints and statuses', async () => {
    await memory.confirm(
      'dst_ids',
      [0, 1, 2].map((i) => ({ keyHash: key(i), fingerprint: fp(i), recordId: String(100 + i), statuses: { a1: 'realized' as const } })),
    );
    await memory.confirm('dst_other', [{ keyHash: key(0, 'dst_ids'), fingerprint: fp(99), recordId: '100' }]);
    await memory.updateRecordIds('dst_ids', [
      { keyHash: key(0), recordId: '900' },
      { keyHash: key(2), recordId: '902' },
    ]);
    const rows = await memory.lookup('dst_ids', [key(0), key(1), key(2)]);
    expect(rows.get(key(0))).toEqual({ keyHash: key(0), fingerprint: fp(0), recordId: '900', statuses: { a1: 'realized' } });
    expect(rows.get(key(1))!.recordId).toBe('101');
    expect(rows.get(key(2))!.recordId).toBe('902');
    expect((await memory.lookup('dst_other', [key(0, 'dst_ids')])).get(key(0, 'dst_ids'))!.recordId).toBe('100');
    await memory.updateRecordIds('dst_ids', []);
  });
});
