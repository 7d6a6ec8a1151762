/**
 * Issue 15, "a 202 means durable": kill -9 of the whole stack right after a burst of 202s, then `npm start`
 * again: every accepted update is delivered, with its last value.
 *
 * The stack is `npm start` (src/dev/start.ts) in a child process: the API and the worker, in one process,
 * both killed by the one SIGKILL. The Temporal dev server and the HubSpot simulator stay up: they stand
 * for external services (Temporal Cloud or a self-hosted cluster, and HubSpot), which a crash of our hosts
 * does not take down (test/faults/temporal-restart.test.ts covers a Temporal restart on its own). The
 * store (SQLite in the data dir, holding the ingest log) survives like a disk.
 *
 * Requests still in the air at the kill may or may not have been taken (no 202: a client retries them);
 * they use emails of their own so that they cannot change the expected last values.
 */
import http from 'node:http';
import { streamWorkflowId } from '../../src/streaming/types';
import { createDestination, startStack, TEST_API_KEY, waitFor, type TestStack } from '../helpers/stack';
import { startStackProcess, type StackProcess } from '../helpers/stack-process';
import { activateAudience, AUD_A, expectBalanced, waitIdle, xdm } from '../helpers/streaming';

jest.setTimeout(300_000);

let stack: TestStack;
let running: StackProcess | undefined;
beforeAll(async () => {
  stack = await startStack({ worker: false, env: { STREAM_HEARTBEAT_TIMEOUT_MS: '2000' } });
});
afterAll(async () => {
  await running?.kill('SIGKILL');
  await stack?.close();
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
afterAll(() => agent.destroy());

/** POST …/profiles over HTTP to the child's API; the status (0 when the connection broke). */
function post(url: string, destinationId: string, profiles: unknown[]): Promise<number> {
  const body = JSON.stringify(profiles);
  return new Promise((resolve) => {
    const req = http.request(
      `${url}/v1/destinations/${destinationId}/profiles`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${TEST_API_KEY}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

const POOL = 400;
const ROUNDS = 5;
const PER_REQUEST = 50;
const base = Date.parse('2025-06-01T00:00:00Z');

test('kill -9 of npm start (API and worker) right after a burst of 202s, npm start again: every accepted update delivered, last value', async () => {
  running = await startStackProcess(stack.envVars);
  const { destinationId, portalId } = await createDestination(stack);
  await activateAudience(stack, destinationId, AUD_A);
  // 10 calls per 10 s (1,000 contacts): HubSpot is still far from done when the stack dies.
  stack.sim.admin.setLimits(portalId, { tenSecondly: 10 });

  // The burst: every email of the pool updated ROUNDS times (newer time, new city), requests of 50 sent
  // all at once, rounds shuffled so that arrival order is not time order. Every request must get a 202.
  const requests: Array<Array<Record<string, unknown>>> = [];
  const expected = new Map<string, string>();
  for (let round = 0; round < ROUNDS; round++)
    for (let first = 0; first < POOL; first += PER_REQUEST)
      requests.push(
        Array.from({ length: PER_REQUEST }, (_, k) => {
          const email = `crash${first + k}@example.com`;
          const city = `City ${round}-${first + k}`;
          if (round === ROUNDS - 1) expected.set(email, city);
          return xdm({ email, at: new Date(base + round * 1000).toISOString(), city, statuses: { [AUD_A.id]: 'realized' } });
        }),
      );
  // A fixed order that is not time order (37 is prime to the 40 requests).
  const order = requests.map((r, i) => ({ r, at: (i * 37) % requests.length })).sort((a, b) => a.at - b.at);
  const url = running.url;
  // Requests of unique emails keep arriving while the stack dies.
  const extra: Array<{ email: string; status: Promise<number> }> = [];
  let trickling = true;
  const trickle = (async () => {
    for (let i = 0; trickling; i++) {
      const email = `inflight${i}@example.com`;
      extra.push({ email, status: post(url, destinationId, [xdm({ email, city: 'Late', statuses: { [AUD_A.id]: 'realized' } })]) });
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const statuses = await Promise.all(order.map(({ r }) => post(url, destinationId, r)));
  expect(statuses.every((s) => s === 202)).toBe(true);

  // Right after the last 202: the whole stack dies.
  await running.kill('SIGKILL');
  trickling = false;
  await trickle;
  const extraStatuses = await Promise.all(extra.map((e) => e.status));
  const extraAccepted = extra.filter((_, i) => extraStatuses[i] === 202).map((e) => e.email);
  expect(extraAccepted.length).toBeGreaterThan(0);
  // The kill came before the stream was done: HubSpot does not hold every last value yet.
  const lastValue = (email: string) => stack.sim.admin.getContact(portalId, email)?.properties.city;
  const notYet = [...expected].filter(([email, city]) => lastValue(email) !== city).length;
  expect(notYet).toBeGreaterThan(0);

  running = await startStackProcess(stack.envVars);
  const accepted = POOL * ROUNDS + extraAccepted.length;
  const s = await waitIdle(stack, destinationId, accepted, 180_000);
  expectBalanced(s);
  expect(s.rejected).toBe(0);
  expect(s.received).toBeGreaterThanOrEqual(accepted); // + requests taken whose answer the kill cut off

  const wrong = [...expected].filter(([email, city]) => lastValue(email) !== city);
  expect(wrong).toEqual([]);
  const missing = extraAccepted.filter((email) => lastValue(email) !== 'Late');
  expect(missing).toEqual([]);

  // The stream is the same workflow, still running, and can take more.
  const more = await post(running.url, destinationId, [
    xdm({ email: 'after@example.com', city: 'After', statuses: { [AUD_A.id]: 'realized' } }),
  ]);
  expect(more).toBe(202);
  await waitFor(() => lastValue('after@example.com') === 'After', {
    what: 'an update after the restart',
  });
  const description = await stack.client.workflow.getHandle(streamWorkflowId(destinationId)).describe();
  expect(description.status.name).toBe('RUNNING');
});
