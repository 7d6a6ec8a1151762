/**
 * The client API's destination and activation routes on the real stack: reading destinations (never
 * their token), the account's properties as mapping targets, uploads, progress while running, cancel,
 * re-run conflicts, and 4xx (never 500) for bad input.
 */
import fs from 'node:fs';
import { generateProfiles } from '../../src/members/sample-profiles';
import { AUDIENCE, getActivation, waitForEnd, writeMembers } from '../helpers/activation';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(120_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

test("a destination reads back without its token; the list and the account's properties are served", async () => {
  const { destinationId, token, portalId } = await createDestination(stack);
  const one = await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}` });
  expect(one.statusCode).toBe(200);
  expect(one.json()).toMatchObject({ id: destinationId, portalId, baseUrl: stack.sim.url, mapping: { attributes: expect.any(Array) } });
  expect(one.body).not.toContain(token);
  const list = await stack.request({ method: 'GET', url: '/v1/destinations' });
  expect(list.json().items.map((d: { id: string }) => d.id)).toContain(destinationId);
  expect(list.body).not.toContain(token);

  const props = await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}/properties` });
  expect(props.statusCode).toBe(200);
  const byName = new Map(
    (props.json().items as Array<{ name: string; type: string; writable: boolean; hubspotDefined: boolean }>).map((p) => [p.name, p]),
  );
  expect(byName.get('firstname')).toMatchObject({ type: 'string', writable: true, hubspotDefined: true });
  expect(byName.get('lifecyclestage')).toMatchObject({ type: 'enumeration' });
  expect(byName.get('hs_object_id')).toMatchObject({ writable: false });

  expect((await stack.request({ method: 'GET', url: '/v1/destinations/dst-nope' })).statusCode).toBe(404);
});

test('bad input is a 4xx JSON error, never a 500', async () => {
  const cases = [
    { method: 'POST' as const, url: '/v1/destinations', payload: { name: 'x' } },
    {
      method: 'POST' as const,
      url: '/v1/destinations',
      payload: { name: 'x', hubspot: { token: 'pat-na1-xxxxxxxx' }, mapping: { attributes: [] }, extra: 1 },
    },
    {
      method: 'POST' as const,
      url: '/v1/destinations/dst-nope/activations',
      payload: { audience: AUDIENCE, source: { uploadId: 'upl_x' } },
    },
    { method: 'GET' as const, url: '/v1/activations/act-nope' },
    { method: 'POST' as const, url: '/v1/activations/act-nope/cancel' },
    { method: 'POST' as const, url: '/v1/activations/act-nope/rerun', payload: { mode: 'rejected' } },
    { method: 'GET' as const, url: '/v1/activations?status=Nope' },
  ];
  for (const c of cases) {
    const res = await stack.request(c);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  }
});

test('an uploaded CSV custom upload is activated; progress is visible while it runs; cancel stops it', async () => {
  const { destinationId, portalId } = await createDestination(stack);
  stack.sim.admin.setLimits(portalId, { tenSecondly: 10 }); // slow: about one batch a second after the first ten
  const { profiles } = writeMembers(stack, 'cancel', 3000, 71);
  const csv = [
    'email,person.name.firstName,workAddress.city,status',
    ...profiles.map((p) => `${p.identityMap.Email.find((e) => e.primary)!.id},${p.person.name.firstName},"${p.workAddress.city}",existing`),
  ].join('\n');
  const up = await stack.request({
    method: 'POST',
    url: '/v1/uploads?filename=members.csv',
    headers: { 'content-type': 'text/csv' },
    payload: csv,
  });
  expect(up.statusCode).toBe(201);
  expect(up.json()).toMatchObject({ format: 'csv', rows: 3000 });

  const started = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/activations`,
    payload: { audience: AUDIENCE, source: { uploadId: up.json().uploadId } },
  });
  expect(started.statusCode).toBe(202);
  const { activationId } = started.json();
  const running = await waitFor(
    async () => {
      const a = await getActivation(stack, activationId);
      return a.status === 'running' && a.progress?.counts.upserted > 0 ? a : undefined;
    },
    { what: 'progress while running' },
  );
  expect(running.progress.totalRecords).toBe(3000);

  const rerunWhileRunning = await stack.request({ method: 'POST', url: `/v1/activations/${activationId}/rerun`, payload: { mode: 'all' } });
  expect(rerunWhileRunning.statusCode).toBe(409);

  const cancel = await stack.request({ method: 'POST', url: `/v1/activations/${activationId}/cancel` });
  expect(cancel.statusCode).toBe(202);
  const end = await waitForEnd(stack, activationId);
  expect(end.status).toBe('cancelled');
  expect(stack.sim.admin.contactCount(portalId)).toBeLessThan(3000);
  const listed = await waitFor(
    async () => {
      const res = await stack.request({ method: 'GET', url: `/v1/activations?destinationId=${destinationId}&status=Cancelled` });
      return (res.json().items as unknown[]).length === 1;
    },
    { what: 'the cancelled activation in visibility' },
  );
  expect(listed).toBe(true);
  expect((await stack.request({ method: 'POST', url: `/v1/activations/${activationId}/cancel` })).statusCode).toBe(409);
});

test('a file outside the allowed source directories is refused by the worker with what to do', async () => {
  const { destinationId } = await createDestination(stack);
  const outside = `${stack.dataDir}/elsewhere.ndjson`;
  fs.writeFileSync(outside, [...generateProfiles({ count: 5 })].join('\n'));
  const started = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/activations`,
    payload: { audience: AUDIENCE, source: { path: outside } },
  });
  expect(started.statusCode).toBe(202);
  const end = await waitForEnd(stack, started.json().activationId);
  expect(end.status).toBe('failed');
  expect(end.failure.message).toMatch(/outside the directories the worker may read/);
});
