/**
 * A throwaway PostgreSQL database per test file on the local server (127.0.0.1:5432, trust auth), so
 * tests of the shared (several-hosts) store never see each other's tables.
 */
import crypto from 'node:crypto';
import { Client } from 'pg';

const host = process.env.PGHOST ?? '127.0.0.1';
const port = Number(process.env.PGPORT ?? 5432);

async function adminClient(): Promise<Client> {
  for (const user of [process.env.PGUSER, 'postgres', 'root'].filter(Boolean) as string[]) {
    const c = new Client({ host, port, user, database: process.env.PGDATABASE ?? 'test' });
    try {
      await c.connect();
      return c;
    } catch {
      await c.end().catch(() => undefined);
    }
  }
  throw new Error(`PostgreSQL is not reachable at ${host}:${port} (database test, user postgres or root).`);
}

export async function createTempDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = await adminClient();
  const name = `hsd_test_${crypto.randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const user = (admin as unknown as { user: string }).user;
  await admin.end();
  return {
    url: `postgres://${user}@${host}:${port}/${name}`,
    async drop() {
      const c = await adminClient();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
