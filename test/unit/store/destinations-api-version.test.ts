/**
 * A destination's `apiVersion` on both back ends, including a store created before the column existed:
 * the migration adds it (twice, and from two processes at once, is harmless) and old rows read without it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../../../src/store/db';
import { DestinationStore, type DestinationRecord } from '../../../src/store/destinations';
import { migrate } from '../../../src/store/schema';
import { createTempDatabase } from '../../helpers/postgres';

const backends = [
  {
    name: 'SQLite',
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dest-version-'));
      const file = path.join(dir, 'store.db');
      return {
        db: openDb({ sqlitePath: file }),
        again: () => openDb({ sqlitePath: file }),
        cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const temp = await createTempDatabase();
      return {
        db: openDb({ databaseUrl: temp.url, sqlitePath: '' }),
        again: () => openDb({ databaseUrl: temp.url, sqlitePath: '' }),
        cleanup: () => temp.drop(),
      };
    },
  },
];

const record = (id: string, extra: Partial<DestinationRecord> = {}): DestinationRecord => ({
  id,
  name: id,
  baseUrl: 'https://api.hubapi.com',
  sealedToken: 'sealed',
  portalId: 1,
  timeZone: 'UTC',
  mapping: { attributes: [] },
  alerts: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe.each(backends)('destination apiVersion on $name', (backend) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let again: () => Db;
  beforeAll(async () => {
    ({ db, cleanup, again } = await backend.open());
    // The destinations table as it was before api_version, with a row in it.
    await db.exec(`CREATE TABLE destinations (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, base_url TEXT NOT NULL,
      sealed_token TEXT NOT NULL, portal_id BIGINT NOT NULL, time_zone TEXT NOT NULL, mapping_json TEXT NOT NULL,
      alerts_json TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await db.query(
      `INSERT INTO destinations (id, name, base_url, sealed_token, portal_id, time_zone, mapping_json, created_at, updated_at)
       VALUES ('old', 'old', 'https://api.hubapi.com', 'sealed', 1, 'UTC', '{"attributes":[]}', 'x', 'x')`,
    );
  });
  afterAll(async () => {
    await db.close();
    await cleanup();
  });

  test('the migration adds the column to an old store, idempotently and concurrently', async () => {
    const other = again();
    await Promise.all([migrate(db), migrate(other)]);
    await migrate(db);
    await other.close();
    const store = new DestinationStore(db);
    const old = await store.get('old');
    expect(old?.id).toBe('old');
    expect(old).not.toHaveProperty('apiVersion');
  });

  test('insert, update and clear the override', async () => {
    const store = new DestinationStore(db);
    await store.insert(record('d1', { apiVersion: 'v3' }));
    expect((await store.get('d1'))?.apiVersion).toBe('v3');
    await store.update(record('d1', { apiVersion: '2026-09' }));
    expect((await store.get('d1'))?.apiVersion).toBe('2026-09');
    await store.update(record('d1'));
    expect(await store.get('d1')).not.toHaveProperty('apiVersion');
  });
});
