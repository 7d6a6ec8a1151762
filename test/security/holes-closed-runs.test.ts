/**
 * Issue 18, item 5 on the real stack: a cancelled run stops writing within seconds and reports exactly
 * what it wrote; a run failed by a revoked token shows its failure and the counts written before it.
 */
import { AUDIENCE, getActivation, startActivation, waitForEnd, writeMembers } from '../helpers/activation';
import { DEFAULT_MAPPING, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(180_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A destination on a fresh account slowed by its 10-second limit (so a run is still going when stopped). */
async function slowDestination(tenSecondly: number) {
  const account = stack.sim.admin.createAccount({ tier: 'pro' });
  stack.sim.admin.setLimits(account.portalId, { tenSecondly });
  const res = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: { name: 'Slow', hubspot: { token: account.token, baseUrl: stack.sim.url }, mapping: { attributes: DEFAULT_MAPPING } },
  });
  expect(res.statusCode).toBe(201);
  return { destinationId: res.json<{ id: string }>().id, portalId: account.portalId, token: account.token };
}

const contactsAt = (portalId: number) => stack.sim.admin.listContacts(portalId, { limit: 10_000 }).results.length;

async function whenSomeWritten(portalId: number, atLeast: number) {
  await waitFor(async () => (contactsAt(portalId) >= atLeast ? true : undefined), {
    timeoutMs: 60_000,
    what: `${atLeast} contacts written`,
  });
}

test('cancel: the run stops writing, and GET shows exactly what it wrote', async () => {
  const { destinationId, portalId } = await slowDestination(6);
  const { file } = writeMembers(stack, 'closed-cancel', 3000);
  const activationId = await startActivation(stack, destinationId, { path: file }, AUDIENCE);
  await whenSomeWritten(portalId, 200);
  const cancel = await stack.request({ method: 'POST', url: `/v1/activations/${activationId}/cancel` });
  expect(cancel.statusCode).toBeLessThan(300);
  const end = await waitForEnd(stack, activationId, 60_000);
  expect(end.status).toBe('cancelled');
  const atClose = contactsAt(portalId);
  await new Promise((r) => setTimeout(r, 3000));
  expect(contactsAt(portalId)).toBe(atClose); // nothing written after the run closed
  const view = await getActivation(stack, activationId);
  expect(view.progress?.counts).toBeDefined();
  expect(view.progress.counts.upserted).toBe(atClose);
  expect(view.progress.counts.rejected).toBe(0);
});

test('failure: a token revoked mid-run shows the failure and the counts written before it', async () => {
  const { destinationId, portalId, token } = await slowDestination(6);
  const { file } = writeMembers(stack, 'closed-fail', 3000, 12);
  const activationId = await startActivation(stack, destinationId, { path: file }, AUDIENCE);
  await whenSomeWritten(portalId, 200);
  stack.sim.admin.revokeToken(portalId, token);
  const end = await waitForEnd(stack, activationId, 90_000);
  expect(end.status).toBe('failed');
  expect(end.failure?.type).toBe('HubSpotAuthFailed');
  expect(end.progress?.counts?.upserted).toBe(contactsAt(portalId));
});
