/** Source connections: sealed at rest, redacted in views, preconfigured ones from SOURCE_CONNECTIONS (read-only). */
import { loadConfig } from '../../../src/config';
import crypto from 'node:crypto';
import { createSealer } from '../../../src/secrets/sealer';
import { ConnectionStore } from '../../../src/store/connections';
import { openDb } from '../../../src/store/db';
import { migrate } from '../../../src/store/schema';

test('SOURCE_CONNECTIONS is a validated JSON list; a bad one names the variable, never the URL', () => {
  const url = 'postgres://reader:pw-123@db:5432/crm';
  const config = loadConfig({ SOURCE_CONNECTIONS: JSON.stringify([{ id: 'warehouse', name: 'Warehouse', url }]) });
  expect(config.sources.connections).toEqual([{ id: 'warehouse', name: 'Warehouse', url }]);
  expect(loadConfig({}).sources.connections).toEqual([]);
  for (const bad of [
    'not json',
    JSON.stringify([{ id: 'x', name: 'X', url: 'mysql://pw-123@h/db' }]),
    JSON.stringify([{ id: 'x', name: 'X' }]),
  ]) {
    let message = '';
    try {
      loadConfig({ SOURCE_CONNECTIONS: bad });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/SOURCE_CONNECTIONS/);
    expect(message).not.toContain('pw-123');
  }
});

test('stored sealed, shown redacted, resolved in full; preconfigured ones listed and resolved', async () => {
  const db = openDb({ sqlitePath: ':memory:' });
  await migrate(db);
  const store = new ConnectionStore(db, createSealer({ primaryId: 'k1', keys: new Map([['k1', crypto.randomBytes(32)]]) }), [
    { id: 'warehouse', name: 'Warehouse', url: 'postgres://env:env-pw@wh:5432/dw' },
  ]);
  const view = await store.insert({
    id: 'con-1',
    name: 'CRM',
    url: 'postgres://reader:pw-123@db:5432/crm',
    createdAt: '2026-12-01T00:00:00Z',
  });
  expect(view).toMatchObject({ id: 'con-1', url: 'postgres://reader@db:5432/crm', origin: 'api' });
  const rows = await db.query('SELECT * FROM source_connections');
  expect(JSON.stringify(rows)).not.toContain('pw-123');
  expect((await store.resolve('con-1')).url).toBe('postgres://reader:pw-123@db:5432/crm');

  const list = await store.list();
  expect(list.map((c) => [c.id, c.url, c.origin])).toEqual([
    ['warehouse', 'postgres://env@wh:5432/dw', 'environment'],
    ['con-1', 'postgres://reader@db:5432/crm', 'api'],
  ]);
  expect(JSON.stringify(list)).not.toMatch(/pw/);
  expect(store.isPreconfigured('warehouse')).toBe(true);
  expect((await store.resolve('warehouse')).url).toBe('postgres://env:env-pw@wh:5432/dw');

  const before = (await store.resolve('con-1')).version;
  await store.update('con-1', { url: 'postgres://reader:new-pw@db:5432/crm', updatedAt: '2026-12-02T00:00:00Z' });
  const after = await store.resolve('con-1');
  expect(after.url).toContain('new-pw');
  expect(after.version).not.toBe(before);

  expect(await store.delete('con-1')).toBe(true);
  await expect(store.resolve('con-1')).rejects.toMatchObject({ code: 'SOURCE_CONNECTION_NOT_FOUND' });
  await db.close();
});
