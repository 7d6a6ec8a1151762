/**
 * A worker killed (-9) during a steady stream loses nothing: another worker takes over the stream
 * workflow and the flushes the dead one held, and every email ends with the last value sent.
 */
import { createDestination, startStack, type TestStack } from '../helpers/stack';
import { StreamLoad } from '../helpers/stream-load';
import { activateAudience, AUD_A, expectBalanced, streamStats, waitIdle } from '../helpers/streaming';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(120_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ worker: false, env: { STREAM_HEARTBEAT_TIMEOUT_MS: '2000' } });
});
afterAll(async () => {
  await stack?.close();
});

test('kill -9 of the worker process mid-stream: nothing lost, last values win', async () => {
  const first = await startWorkerProcess(stack.envVars);
  const { destinationId, portalId } = await createDestination(stack);
  await activateAudience(stack, destinationId, AUD_A);
  const load = new StreamLoad(stack, destinationId, AUD_A, 300);

  let stop!: () => void;
  const stopped = new Promise<void>((r) => {
    stop = r;
  });
  const sending = load.run(5, 25, stopped); // ~200 updates/s
  await new Promise((r) => setTimeout(r, 3000));
  const before = await streamStats(stack, destinationId);
  expect(before.sent).toBeGreaterThan(0);

  await first.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1500));
  await stack.startWorker();
  await new Promise((r) => setTimeout(r, 3000));
  stop();
  await sending;

  expect(load.refusals).toEqual([]);
  const s = await waitIdle(stack, destinationId, load.accepted, 60_000);
  expect(s.received).toBe(load.accepted);
  expect(s.rejected).toBe(0);
  expectBalanced(s);
  expect(load.mismatches(portalId)).toEqual([]);
  expect(stack.sim.admin.contactCount(portalId)).toBe(300);
});
