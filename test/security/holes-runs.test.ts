/**
 * Issue 18, the holes in runs and destinations (items 1, 4, 6, 8, 9), on the real stack (Temporal dev
 * server, HubSpot simulator, worker, API):
 *  1. a destination stays on the HubSpot portal it was created on (a token of another portal is refused);
 *  4. one run per destination × audience at a time (a second start or re-run gets 409 naming the first);
 *  6. destination checks go through the rate governor (0 HubSpot 429s while checks and a run share an account);
 *  8. activation routes act only on activation workflows (configure and stream workflow ids are 404);
 *  9. audience ids are plain ids (`__proto__` is refused).
 */
import { ServiceMetrics } from '../../src/metrics/service-metrics';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { tokenContext } from '../../src/destinations/token-context';
import { createProcessPages } from '../../activities/process-pages';
import { PropertyCache } from '../../src/destinations/property-cache';
import { START_CURSOR } from '../../src/members/types';
import { SAMPLE_AUDIENCES } from '../../src/members/sample-profiles';
import { streamWorkflowId } from '../../src/streaming/types';
import {
  AUDIENCE,
  expectExactContacts,
  getActivation,
  startActivation,
  upsertCalls,
  waitForEnd,
  writeMembers,
} from '../helpers/activation';
import { createDestination, DEFAULT_MAPPING, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(180_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A destination on a fresh account whose 10-second limit is set before anything calls it. */
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

async function cancelAndWait(activationId: string): Promise<void> {
  await stack.request({ method: 'POST', url: `/v1/activations/${activationId}/cancel` });
  await waitForEnd(stack, activationId);
}

describe('1. a destination belongs to one HubSpot portal', () => {
  test('a token of another portal is refused with 409 naming both portals; the running activation stays on its portal', async () => {
    const { destinationId, portalId } = await slowDestination(10);
    const { file, profiles } = writeMembers(stack, 'portal-bound', 1500, 81);
    const activationId = await startActivation(stack, destinationId, { path: file });
    await waitFor(() => upsertCalls(stack) >= 2, { what: 'the run under way' });

    const other = stack.sim.admin.createAccount({ tier: 'pro' });
    const moved = await stack.request({
      method: 'PATCH',
      url: `/v1/destinations/${destinationId}`,
      payload: { hubspot: { token: other.token } },
    });
    expect(moved.statusCode).toBe(409);
    const err = moved.json().error;
    expect(err.code).toBe('DESTINATION_PORTAL_CHANGED');
    expect(err.message).toContain(String(portalId));
    expect(err.message).toContain(String(other.portalId));
    expect(err.message).toMatch(/create a new destination/i);
    expect(moved.body).not.toContain(other.token);
    expect((await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}` })).json().portalId).toBe(portalId);

    // A new token of the same portal is still accepted (rotation).
    const fresh = stack.sim.admin.addToken(portalId).token;
    const rotated = await stack.request({
      method: 'PATCH',
      url: `/v1/destinations/${destinationId}`,
      payload: { hubspot: { token: fresh } },
    });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().portalId).toBe(portalId);

    const end = await waitForEnd(stack, activationId);
    expect(end.status).toBe('completed');
    expect(stack.sim.admin.contactCount(other.portalId)).toBe(0);
    expectExactContacts(stack, portalId, profiles);
  });

  test("the page activity refuses, non-retryably, a destination whose portal is not the run's", async () => {
    const { destinationId, portalId } = await createDestination(stack);
    const s = stack.services;
    const processPages = createProcessPages({
      destinations: s.destinations,
      sealer: s.sealer,
      governor: s.governor,
      requestTimeoutMs: 5000,
      rejections: s.rejections,
      checkpoints: s.checkpoints,
      sourceReader: s.sourceReader,
      defaultPageSize: 100,
      defaultConcurrency: 1,
      defaultMaxPages: 50,
      defaultMaxMillis: 5000,
      propertyCache: new PropertyCache(),
      metrics: new ServiceMetrics(),
      contactMemory: s.contactMemory,
      contactMemoryEnabled: true,
    });
    const { file } = writeMembers(stack, 'portal-activity', 10, 82);
    const before = stack.sim.admin.stats().totalRequests;
    const run = new MockActivityEnvironment().run(processPages, {
      activationId: 'act-portal-check',
      destinationId,
      portalId: portalId + 1,
      audience: AUDIENCE,
      propertyName: 'aud_x',
      source: { kind: 'path' as const, path: file },
      cursor: START_CURSOR,
    });
    await expect(run).rejects.toBeInstanceOf(ApplicationFailure);
    const failure = (await run.catch((e: unknown) => e)) as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('DestinationPortalChanged');
    expect(failure.message).toContain(String(portalId));
    expect(failure.message).toContain(String(portalId + 1));
    // Nothing was sent to HubSpot.
    expect(stack.sim.admin.stats().totalRequests).toBe(before);

    // The store itself refuses to move a destination to another portal, whoever asks.
    const d = (await s.destinations.get(destinationId))!;
    await expect(s.destinations.update({ ...d, portalId: portalId + 1, name: 'moved' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await s.destinations.get(destinationId)).toMatchObject({ portalId, name: d.name });
    await s.destinations.update({ ...d, name: 'renamed' });
    expect(await s.destinations.get(destinationId)).toMatchObject({ portalId, name: 'renamed' });

    // A token of another portal smuggled into the store: the run fails at its first step, writing nothing.
    const other = stack.sim.admin.createAccount({ tier: 'pro' });
    await s.destinations.update({ ...d, sealedToken: s.sealer.seal(other.token, tokenContext(destinationId)) });
    const { file: members } = writeMembers(stack, 'portal-smuggled', 20, 88);
    const end = await waitForEnd(stack, await startActivation(stack, destinationId, { path: members }));
    expect(end.status).toBe('failed');
    expect(end.failure.message).toContain(`belongs to HubSpot portal ${other.portalId}, not ${portalId}`);
    expect(end.failure.message).toMatch(/create a new destination/i);
    expect(stack.sim.admin.contactCount(other.portalId)).toBe(0);
  });
});

describe('4. one run per destination × audience at a time', () => {
  test('a second activation or a re-run of a running destination × audience gets 409 naming the running one', async () => {
    const { destinationId } = await slowDestination(10);
    const { file } = writeMembers(stack, 'one-run', 1500, 83);
    const small = writeMembers(stack, 'one-run-small', 5, 84).file;

    // A finished run of the same destination × audience, to re-run later.
    const earlier = await startActivation(stack, destinationId, { path: small });
    expect((await waitForEnd(stack, earlier)).status).toBe('completed');

    const first = await startActivation(stack, destinationId, { path: file });
    const second = await stack.request({
      method: 'POST',
      url: `/v1/destinations/${destinationId}/activations`,
      payload: { audience: AUDIENCE, source: { path: small } },
    });
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('CONFLICT');
    expect(second.json().error.message).toContain(first);
    expect(second.json().error.details).toMatchObject({ runningActivationId: first });

    const rerun = await stack.request({ method: 'POST', url: `/v1/activations/${earlier}/rerun`, payload: { mode: 'all' } });
    expect(rerun.statusCode).toBe(409);
    expect(rerun.json().error.message).toContain(first);

    // Another audience on the same destination may run meanwhile.
    const otherAudience = await startActivation(stack, destinationId, { path: small }, SAMPLE_AUDIENCES[1]);
    expect((await waitForEnd(stack, otherAudience)).status).toBe('completed');

    // Once the run has ended the slot is free again.
    await cancelAndWait(first);
    const after = await startActivation(stack, destinationId, { path: small });
    expect((await waitForEnd(stack, after)).status).toBe('completed');
  });

  test('two starts at the same moment: exactly one is accepted', async () => {
    const { destinationId } = await slowDestination(10);
    const { file } = writeMembers(stack, 'race', 1500, 85);
    const answers = await Promise.all(
      [0, 1, 2].map(() =>
        stack.request({
          method: 'POST',
          url: `/v1/destinations/${destinationId}/activations`,
          payload: { audience: AUDIENCE, source: { path: file } },
        }),
      ),
    );
    const codes = answers.map((a) => a.statusCode).sort();
    expect(codes).toEqual([202, 409, 409]);
    const winner = answers.find((a) => a.statusCode === 202)!.json().activationId as string;
    for (const a of answers.filter((x) => x.statusCode === 409)) expect(a.json().error.message).toContain(winner);
    await cancelAndWait(winner);
  });
});

describe('6. destination checks go through the rate governor', () => {
  test('a run plus repeated checks on one account with a tight limit: 0 HubSpot 429s', async () => {
    const LIMIT = 20;
    const { destinationId, portalId } = await slowDestination(LIMIT);
    const { file, profiles } = writeMembers(stack, 'governed-checks', 2000, 86);
    const activationId = await startActivation(stack, destinationId, { path: file });
    await waitFor(() => upsertCalls(stack) >= 2, { what: 'the run under way' });
    for (let i = 0; i < 4; i++) {
      const patched = await stack.request({
        method: 'PATCH',
        url: `/v1/destinations/${destinationId}`,
        payload: { description: `check ${i}` },
      });
      expect(patched.statusCode).toBe(200);
      const props = await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}/properties` });
      expect(props.statusCode).toBe(200);
    }
    const end = await waitForEnd(stack, activationId, 170_000);
    expect(end.status).toBe('completed');
    expectExactContacts(stack, portalId, profiles);
    const portal = stack.sim.admin.stats().portals[String(portalId)];
    expect(portal.rateLimited).toBe(0);
    expect(portal.maxRequestsIn10s).toBeLessThanOrEqual(LIMIT);
  });
});

describe('8. activation routes act only on activation workflows', () => {
  test('configure and stream workflow ids are 404 on every activation route; the stream survives a cancel', async () => {
    const { destinationId } = await createDestination(stack);
    const configureId = await waitFor(
      async () => {
        for await (const wf of stack.client.workflow.list({
          query: `WorkflowType = 'configureDestination' AND WorkflowId STARTS_WITH 'configure-${destinationId}'`,
        }))
          return wf.workflowId;
        return undefined;
      },
      { what: 'the configure workflow in visibility' },
    );
    const pause = await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/stream/pause` });
    expect(pause.statusCode).toBe(202);
    const streamId = streamWorkflowId(destinationId);

    for (const id of [configureId, streamId]) {
      for (const [method, url] of [
        ['GET', `/v1/activations/${id}`],
        ['POST', `/v1/activations/${id}/cancel`],
        ['POST', `/v1/activations/${id}/rerun`],
        ['GET', `/v1/activations/${id}/rejections`],
      ] as const) {
        const res = await stack.request({ method, url, ...(method === 'POST' ? { payload: {} } : {}) });
        expect({ id, url, status: res.statusCode }).toEqual({ id, url, status: 404 });
        expect(res.json().error).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String) });
      }
    }
    const stream = await stack.client.workflow.getHandle(streamId).describe();
    expect(stream.status.name).toBe('RUNNING');
    await stack.client.workflow.getHandle(streamId).terminate('test done');
  });
});

describe('9. audience ids are plain ids', () => {
  test('__proto__ and other non-plain audience ids are refused with 400', async () => {
    const { destinationId } = await createDestination(stack);
    const { file } = writeMembers(stack, 'proto', 5, 87);
    for (const id of ['__proto__', 'a b', '../x', '']) {
      const res = await stack.request({
        method: 'POST',
        url: `/v1/destinations/${destinationId}/activations`,
        payload: { audience: { id, name: 'Proto' }, source: { path: file } },
      });
      expect({ id, status: res.statusCode }).toEqual({ id, status: 400 });
      expect(res.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    const list = await stack.request({ method: 'GET', url: '/v1/activations?audienceId=__proto__' });
    expect(list.statusCode).toBe(400);
    // Plain ids still work.
    const ok = await startActivation(stack, destinationId, { path: file }, { id: 'Aud_1.x:y-2', name: 'Plain' });
    expect((await getActivation(stack, ok)).activationId).toBe(ok);
    await waitForEnd(stack, ok);
  });
});
