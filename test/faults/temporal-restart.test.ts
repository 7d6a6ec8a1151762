/**
 * Fault test 2: the Temporal dev server is stopped and started again (same SQLite file) in the middle
 * of an activation. Workers and clients reconnect; the run completes with exact contacts.
 */
import net from 'node:net';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { accountingError } from '../../src/delivery/counts';
import { startTemporalDevServer, type DevServer } from '../../src/dev/temporal-dev-server';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { expectExactContacts, startActivation, upsertCalls, waitForEnd, writeMembers } from '../helpers/activation';
import { createDestination, quietRuntime, startStack, tempDir, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(240_000);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

let server: DevServer;
let env: TestWorkflowEnvironment;
let stack: TestStack;
let dbFile: string;
let port: number;

async function startServer(): Promise<DevServer> {
  return startTemporalDevServer({ dbFile, port, ui: false, searchAttributes: SEARCH_ATTRIBUTES.map((k) => k.name) });
}

beforeAll(async () => {
  quietRuntime();
  dbFile = path.join(tempDir('hsd-temporal-'), 'temporal.db');
  port = await freePort();
  server = await startServer();
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
  stack = await startStack({ temporal: env, env: { ACTIVATION_HEARTBEAT_TIMEOUT_MS: '5000', ACTIVATION_UPSERT_CONCURRENCY: '2' } });
});
afterAll(async () => {
  await stack?.close();
  await server?.stop();
});

test('Temporal stops and restarts on the same SQLite file mid-activation: the run completes', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  stack.sim.admin.setLimits(portalId, { tenSecondly: 20 });
  stack.sim.admin.resetStats();
  const { file, profiles } = writeMembers(stack, 'restart', 3000, 21);
  const activationId = await startActivation(stack, destinationId, { path: file });

  await waitFor(() => upsertCalls(stack) >= 8, { what: 'the run under way' });
  await server.stop('SIGTERM');
  const atStop = upsertCalls(stack);
  expect(atStop).toBeLessThan(30);
  await new Promise((r) => setTimeout(r, 2000));
  server = await startServer();

  const end = await waitForEnd(stack, activationId, 180_000);
  expect(end.status).toBe('completed');
  expect(accountingError(end.summary)).toBeUndefined();
  expect(end.summary).toMatchObject({ received: 3000, upserted: 3000, rejected: 0 });
  expectExactContacts(stack, portalId, profiles);
});
