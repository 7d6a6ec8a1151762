/**
 * Issue 18, item 2 on the real stack: nobody can jam the always-on stream. A cancel from anywhere (the
 * Temporal CLI, the Web UI's Cancel button: both request cancellation of the workflow) pauses it with
 * its updates kept; a stream closed for good (terminated) is started afresh by the next update, so a 202
 * from `POST …/profiles` always means a running stream will send the update.
 */
import { streamWorkflowId } from '../../src/streaming/types';
import { activateAudience, AUD_A, sendProfiles, streamStats, waitIdle } from '../helpers/streaming';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(180_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const reached = (portalId: number, email: string, city: string) =>
  waitFor(async () => (stack.sim.admin.getContact(portalId, email)?.properties?.city === city ? true : undefined), {
    timeoutMs: 30_000,
    what: `${email} in ${city} at HubSpot`,
  });

test('a cancel pauses the stream (updates kept, reason says how to resume); after a terminate, a 202 update still reaches HubSpot', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  await activateAudience(stack, destinationId, AUD_A);
  await sendProfiles(stack, destinationId, [{ email: 'one@example.com', statuses: { [AUD_A.id]: 'realized' }, city: 'Lyon' }]);
  await reached(portalId, 'one@example.com', 'Lyon');
  const handle = stack.client.workflow.getHandle(streamWorkflowId(destinationId));

  // What `temporal workflow cancel` and the Web UI's Cancel button do.
  await handle.cancel();
  const paused = await waitFor(
    async () => {
      const s = await streamStats(stack, destinationId).catch(() => undefined);
      return s?.state === 'paused' ? s : undefined;
    },
    { what: 'the stream paused by the cancel' },
  );
  expect(paused.pausedReason).toContain(`POST /v1/destinations/${destinationId}/stream/resume`);
  expect((await handle.describe()).status.name).toBe('RUNNING');
  await sendProfiles(stack, destinationId, [{ email: 'two@example.com', statuses: { [AUD_A.id]: 'realized' }, city: 'Nice' }]);
  expect((await streamStats(stack, destinationId)).buffered).toBe(1);
  const resume = await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/stream/resume` });
  expect(resume.statusCode).toBe(202);
  await reached(portalId, 'two@example.com', 'Nice');
  await waitIdle(stack, destinationId, 2);

  // Closed for good: the next update starts a new run, and what was answered 202 is sent.
  await handle.terminate('test: the stream is closed for good');
  await sendProfiles(stack, destinationId, [{ email: 'three@example.com', statuses: { [AUD_A.id]: 'realized' }, city: 'Metz' }]);
  await reached(portalId, 'three@example.com', 'Metz');
  expect((await handle.describe()).status.name).toBe('RUNNING');
  await handle.terminate('test done');
});
