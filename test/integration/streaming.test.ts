/**
 * Streaming end to end on real parts (API → Temporal dev server → worker → HubSpot simulator):
 * latency bound, merge and ordering rules (also across flushes), batching, audiences that are not
 * activated, exits, pause/resume, rejections and accounting.
 */
import { audiencePropertyName } from '../../src/mapping/audience-property';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildProgram } from '../../src/cli/main';
import { startActivation, UPSERT_ROUTE, upsertCalls, waitForEnd } from '../helpers/activation';
import { createDestination, startStack, TEST_API_KEY, waitFor, type TestStack } from '../helpers/stack';
import {
  activateAudience,
  AUD_A,
  AUD_B,
  AUD_OFF,
  expectBalanced,
  postProfiles,
  sendProfiles,
  streamStats,
  waitIdle,
  xdm,
} from '../helpers/streaming';

jest.setTimeout(120_000);

const PROP_A = audiencePropertyName(AUD_A.id);
const PROP_B = audiencePropertyName(AUD_B.id);
const PROP_OFF = audiencePropertyName(AUD_OFF.id);

let stack: TestStack;
let dest: { destinationId: string; portalId: number };

beforeAll(async () => {
  // The lag test's alert receiver listens on loopback: allowed only with ALERT_ALLOW_PRIVATE_URLS (issue 18).
  stack = await startStack({ env: { ALERT_ALLOW_PRIVATE_URLS: 'true' } });
  dest = await createDestination(stack);
  await activateAudience(stack, dest.destinationId, AUD_A);
});
afterAll(async () => {
  await stack?.close();
});

const contact = (email: string, d = dest) => stack.sim.admin.getContact(d.portalId, email);

test('an update lands within the latency bound (1 s), and the stream reports it', async () => {
  const sentAt = Date.now();
  await sendProfiles(stack, dest.destinationId, [
    { email: 'first@example.com', statuses: { [AUD_A.id]: 'realized' }, first: 'Ana', city: 'Lisbon' },
  ]);
  await waitFor(() => contact('first@example.com'), { intervalMs: 10, timeoutMs: 10_000, what: 'first contact' });
  const latency = Date.now() - sentAt;
  // 1 s bound + one flush (the very first one also starts the workflow and warms the property cache).
  expect(latency).toBeLessThan(2000);
  expect(contact('first@example.com')!.properties).toMatchObject({ firstname: 'Ana', city: 'Lisbon', [PROP_A]: 'realized' });

  const s = await waitIdle(stack, dest.destinationId, 1);
  expect(s).toMatchObject({ state: 'running', received: 1, sent: 1, created: 1, rejected: 0, buffered: 0, inFlight: 0, lagMs: 0 });
  expect(s.lastFlushAt).toBeDefined();
  expectBalanced(s);
});

test('merge and ordering: newer wins, a late older update never overwrites, also across flushes', async () => {
  const before = await streamStats(stack, dest.destinationId);
  const email = 'order@example.com';
  const a = { [AUD_A.id]: 'realized' };
  // One request: newer first, then an older one (late) and a newer partial one (merges).
  await sendProfiles(stack, dest.destinationId, [
    { email, at: '2024-03-01T10:00:02Z', statuses: a, first: 'Newer', city: 'Brno' },
    { email, at: '2024-03-01T10:00:01Z', statuses: a, first: 'Older', city: 'Lyon', last: 'Late' },
    { email, at: '2024-03-01T10:00:03Z', statuses: a, last: 'Newest' },
  ]);
  let s = await waitIdle(stack, dest.destinationId, before.received + 3);
  expect(contact(email)!.properties).toMatchObject({ firstname: 'Newer', lastname: 'Newest', city: 'Brno' });
  expect(s.stale - before.stale).toBe(1);
  expect(s.merged - before.merged).toBe(1);
  expect(s.sent - before.sent).toBe(1);

  // Across flushes: an update older than what was written is dropped at flush time.
  await sendProfiles(stack, dest.destinationId, [
    { email, at: '2024-03-01T10:00:02.500Z', statuses: { [AUD_A.id]: 'exited' }, first: 'Stale' },
  ]);
  s = await waitIdle(stack, dest.destinationId, before.received + 4);
  expect(s.stale - before.stale).toBe(2);
  expect(s.sent - before.sent).toBe(1);
  expect(contact(email)!.properties).toMatchObject({ firstname: 'Newer', [PROP_A]: 'realized' });

  // Without `timestamp`, the latest lastQualificationTime orders updates; a newer one still goes through.
  const noTs = xdm({ email, statuses: {}, first: 'ByQualification' }) as { segmentMembership: { ups: Record<string, unknown> } };
  noTs.segmentMembership.ups[AUD_A.id] = { status: 'exited', lastQualificationTime: '2024-03-01T10:00:04Z' };
  expect((await postProfiles(stack, dest.destinationId, noTs)).status).toBe(202);
  s = await waitIdle(stack, dest.destinationId, before.received + 5);
  // `exited` is written when a member leaves.
  expect(contact(email)!.properties).toMatchObject({ firstname: 'ByQualification', lastname: 'Newest', [PROP_A]: 'exited' });
  expectBalanced(s);
});

test('batches of at most 100 per HubSpot call; a full buffer flushes before the latency bound', async () => {
  const d = await createDestination(stack);
  await activateAudience(stack, d.destinationId, AUD_A);
  // A long latency bound: only a full buffer can trigger the first two flushes quickly.
  const patched = await stack.request({
    method: 'PATCH',
    url: `/v1/destinations/${d.destinationId}/stream`,
    payload: { maxLatencyMs: 4000 },
  });
  expect(patched.statusCode).toBe(202);
  await waitFor(async () => (await streamStats(stack, d.destinationId)).options?.maxLatencyMs === 4000, { what: 'latency setting' });

  await waitIdle(stack, dest.destinationId, 0);
  stack.sim.admin.resetStats();
  const emails = Array.from({ length: 250 }, (_, i) => `batch${i}@example.com`);
  const started = Date.now();
  await sendProfiles(
    stack,
    d.destinationId,
    emails.map((email) => ({ email, statuses: { [AUD_A.id]: 'realized' } })),
  );
  await waitFor(() => stack.sim.admin.contactCount(d.portalId) >= 200, { intervalMs: 20, what: 'two full batches' });
  expect(Date.now() - started).toBeLessThan(3000);
  const s = await waitIdle(stack, d.destinationId, 250);
  // The API signals in small references, and a flush starts at once when none is in flight (issue 15), so
  // how the 250 are cut depends on timing: what holds is that every call carries at most 100 (the
  // simulator refuses more) and that all are sent.
  expect(s.sent).toBe(250);
  expect(stack.sim.admin.contactCount(d.portalId)).toBe(250);
  const calls = stack.sim.admin.stats().byRoute[UPSERT_ROUTE];
  expect(Object.keys(calls)).toEqual(['200']);
  expect(calls['200']).toBeGreaterThanOrEqual(3);
  expect(s.flushes).toBe(calls['200']);
});

test('an audience not activated on the destination is ignored and counted; a newly activated one is written', async () => {
  const before = await streamStats(stack, dest.destinationId);
  await sendProfiles(stack, dest.destinationId, [
    { email: 'offonly@example.com', statuses: { [AUD_OFF.id]: 'realized' }, first: 'Off' },
    { email: 'both@example.com', statuses: { [AUD_A.id]: 'realized', [AUD_OFF.id]: 'realized' }, first: 'Both' },
  ]);
  let s = await waitIdle(stack, dest.destinationId, before.received + 2);
  expect(s.ignored - before.ignored).toBe(1);
  expect(s.ignoredByReason.NO_ACTIVATED_AUDIENCE).toBeGreaterThanOrEqual(1);
  expect(s.ignoredStatuses - before.ignoredStatuses).toBe(2);
  expect(s.sent - before.sent).toBe(1);
  expect(contact('offonly@example.com')).toBeUndefined();
  expect(contact('both@example.com')!.properties[PROP_A]).toBe('realized');
  expect(contact('both@example.com')!.properties[PROP_OFF]).toBeUndefined();

  // Activated after the stream started: its property exists and its statuses are written from then on.
  await activateAudience(stack, dest.destinationId, AUD_B);
  await sendProfiles(stack, dest.destinationId, [
    { email: 'both@example.com', at: '2030-01-01T00:00:00Z', statuses: { [AUD_A.id]: 'existing', [AUD_B.id]: 'realized' } },
  ]);
  s = await waitIdle(stack, dest.destinationId, before.received + 3);
  expect(contact('both@example.com')!.properties).toMatchObject({ [PROP_A]: 'existing', [PROP_B]: 'realized' });
  expectBalanced(s);
});

test('an activated audience whose property is gone in HubSpot gets it ensured before its first streamed value', async () => {
  const d = await createDestination(stack);
  await activateAudience(stack, d.destinationId, AUD_B);
  // Archived in HubSpot, and a worker that never saw it (fresh property cache).
  const del = await fetch(`${stack.sim.url}/crm/v3/properties/contacts/${PROP_B}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${d.token}` },
  });
  expect(del.status).toBe(204);
  expect(stack.sim.admin.listProperties(d.portalId).some((p) => p.name === PROP_B)).toBe(false);
  await stack.worker!.shutdown();
  await stack.startWorker();

  await sendProfiles(stack, d.destinationId, [{ email: 'ensured@example.com', statuses: { [AUD_B.id]: 'realized' } }]);
  const s = await waitIdle(stack, d.destinationId, 1);
  expect(s.sent).toBe(1);
  expect(stack.sim.admin.listProperties(d.portalId).find((p) => p.name === PROP_B)).toMatchObject({
    type: 'enumeration',
    label: AUD_B.name,
  });
  expect(contact('ensured@example.com', d)!.properties[PROP_B]).toBe('realized');
});

test('pause keeps updates (nothing is sent), resume sends them all', async () => {
  const before = await streamStats(stack, dest.destinationId);
  expect((await stack.request({ method: 'POST', url: `/v1/destinations/${dest.destinationId}/stream/pause` })).statusCode).toBe(202);
  await waitFor(
    async () => {
      const s = await streamStats(stack, dest.destinationId);
      return s.state === 'paused' && s.inFlight === 0;
    },
    { what: 'paused' },
  );
  const countBefore = stack.sim.admin.contactCount(dest.portalId);
  const emails = Array.from({ length: 30 }, (_, i) => `paused${i}@example.com`);
  await sendProfiles(
    stack,
    dest.destinationId,
    emails.map((email) => ({ email, statuses: { [AUD_A.id]: 'realized' } })),
  );
  await new Promise((r) => setTimeout(r, 2000));
  const paused = await streamStats(stack, dest.destinationId);
  expect(paused).toMatchObject({ state: 'paused', buffered: 30, pausedReason: 'Paused by an operator' });
  expect(paused.lagMs).toBeGreaterThanOrEqual(1500);
  expect(stack.sim.admin.contactCount(dest.portalId)).toBe(countBefore);

  expect((await stack.request({ method: 'POST', url: `/v1/destinations/${dest.destinationId}/stream/resume` })).statusCode).toBe(202);
  const s = await waitIdle(stack, dest.destinationId, before.received + 30);
  expect(s.state).toBe('running');
  expect(emails.every((e) => contact(e)?.properties[PROP_A] === 'realized')).toBe(true);
  expect(s.sent - before.sent).toBe(30);
  expectBalanced(s);
});

test('a HubSpot outage delays updates but loses none', async () => {
  const before = await streamStats(stack, dest.destinationId);
  stack.sim.admin.setFaults({ errorRate: 1, errorStatuses: [503], routes: ['/crm/v3/objects/contacts/batch/upsert'] });
  try {
    const emails = Array.from({ length: 20 }, (_, i) => `outage${i}@example.com`);
    await sendProfiles(
      stack,
      dest.destinationId,
      emails.map((email) => ({ email, statuses: { [AUD_A.id]: 'realized' }, city: 'Oslo' })),
    );
    await waitFor(async () => (await streamStats(stack, dest.destinationId)).inFlight === 20, { what: 'a flush retrying' });
    await new Promise((r) => setTimeout(r, 2500));
    expect(emails.some((e) => contact(e))).toBe(false);
    expect(stack.sim.admin.stats().faults.errors).toBeGreaterThan(0);
    stack.sim.admin.clearFaults();
    const s = await waitIdle(stack, dest.destinationId, before.received + 20, 60_000);
    expect(emails.every((e) => contact(e)?.properties.city === 'Oslo')).toBe(true);
    expect(s.rejected).toBe(before.rejected);
    expectBalanced(s);
  } finally {
    stack.sim.admin.clearFaults();
  }
});

test('invalid records are rejected, stored and listed; request limits', async () => {
  const before = await streamStats(stack, dest.destinationId);
  const res = await postProfiles(stack, dest.destinationId, [
    xdm({ email: 'not-an-email', statuses: { [AUD_A.id]: 'realized' } }),
    { segmentMembership: { ups: { [AUD_A.id]: { status: 'realized' } } } },
    xdm({ email: 'badstatus@example.com', statuses: { [AUD_A.id]: 'sleeping' } }),
    xdm({ email: 'fine@example.com', statuses: { [AUD_A.id]: 'realized' } }),
  ]);
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ accepted: 4, destinationId: dest.destinationId });
  const s = await waitIdle(stack, dest.destinationId, before.received + 4);
  expect(s.rejected - before.rejected).toBe(3);
  expect(s.sent - before.sent).toBe(1);
  expectBalanced(s);
  const listed = await stack.request({ method: 'GET', url: `/v1/destinations/${dest.destinationId}/stream/rejections` });
  expect(listed.statusCode).toBe(200);
  expect(
    listed
      .json()
      .items.map((i: { reason: { code: string } }) => i.reason.code)
      .sort(),
  ).toEqual(['INVALID_EMAIL', 'INVALID_STATUS', 'MISSING_EMAIL']);

  // A malformed signal (not from the API) is counted and ignored; the stream goes on.
  await stack.client.workflow.getHandle(s.workflowId).signal('profiles', { at: Date.now(), updates: [42, { t: 'soon' }, null] });
  await sendProfiles(stack, dest.destinationId, [{ email: 'after-malformed@example.com', statuses: { [AUD_A.id]: 'realized' } }]);
  const after = await waitIdle(stack, dest.destinationId, s.received + 4);
  expect(after.ignoredByReason.MALFORMED_UPDATE).toBe(3);
  expect(contact('after-malformed@example.com')).toBeDefined();
  expectBalanced(after);

  const tooMany = await postProfiles(
    stack,
    dest.destinationId,
    Array.from({ length: 1001 }, (_, i) => xdm({ email: `x${i}@example.com` })),
  );
  expect(tooMany.status).toBe(413);
  expect(tooMany.body.error.message).toMatch(/at most 1000 profiles/);
  expect((await postProfiles(stack, 'dst-unknown', xdm({ email: 'a@example.com' }))).status).toBe(404);
  expect((await stack.request({ method: 'GET', url: '/v1/destinations/dst-unknown/stream' })).statusCode).toBe(404);
  expect((await postProfiles(stack, dest.destinationId, ['not a profile'])).status).toBe(400);
});

test('CLI: stream stats (table), pause, resume and send over the API', async () => {
  const url = await stack.api.listen({ host: '127.0.0.1', port: 0 });
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    out.push(args.join(' '));
  });
  const cli = (...args: string[]) =>
    buildProgram()
      .exitOverride()
      .parseAsync(['node', 'hubspot-destination', '--api-url', url, '--api-key', TEST_API_KEY, 'stream', ...args]);
  try {
    await cli('pause', dest.destinationId);
    await waitFor(async () => (await streamStats(stack, dest.destinationId)).state === 'paused', { what: 'paused' });
    await cli('stats', dest.destinationId);
    expect(out.join('\n')).toMatch(/state\s+paused \(Paused by an operator\)/);
    expect(out.join('\n')).toMatch(/received\s+\d+/);
    expect(out.join('\n')).toMatch(/lag\s+\d+\.\d\d s/);

    const file = path.join(stack.dataDir, 'stream-cli.ndjson');
    fs.writeFileSync(
      file,
      ['cli1@example.com', 'cli2@example.com']
        .map((email) => JSON.stringify(xdm({ email, statuses: { [AUD_A.id]: 'realized' } })))
        .join('\n') + '\n',
    );
    const before = await streamStats(stack, dest.destinationId);
    await cli('send', dest.destinationId, file);
    expect(out.join('\n')).toMatch(/2 profile updates accepted/);
    await cli('resume', dest.destinationId);
    await waitIdle(stack, dest.destinationId, before.received + 2);
    expect(contact('cli2@example.com')).toBeDefined();
  } finally {
    log.mockRestore();
  }
});

test('back-pressure: a paused stream holding too many updates answers 429; nothing taken is lost', async () => {
  const d = await createDestination(stack);
  await activateAudience(stack, d.destinationId, AUD_A);
  await stack.request({ method: 'POST', url: `/v1/destinations/${d.destinationId}/stream/pause` });
  let accepted = 0;
  for (let r = 0; r < 5; r++) {
    const res = await postProfiles(
      stack,
      d.destinationId,
      Array.from({ length: 1000 }, (_, i) => xdm({ email: `bp${r}-${i}@example.com`, statuses: { [AUD_A.id]: 'realized' } })),
    );
    // The API counts what it admitted since its last backlog read: the bound (4,000) binds within a
    // request or two, not only once a read catches up.
    if (res.status === 429 && accepted > 0) break;
    expect(res.status).toBe(202);
    accepted += 1000;
  }
  // The API reads the backlog at most once a second, in the background.
  const refused = await waitFor(
    async () => {
      const res = await postProfiles(
        stack,
        d.destinationId,
        xdm({ email: `late${accepted}@example.com`, statuses: { [AUD_A.id]: 'realized' } }),
      );
      if (res.status === 202) accepted++;
      return res.status === 429 ? res : undefined;
    },
    { intervalMs: 300, what: '429' },
  );
  expect(refused.body.error).toMatchObject({ code: 'STREAM_BACKLOG_FULL' });
  expect(refused.body.error.message).toMatch(/paused or HubSpot is not keeping up/);
  // Standard clients get whole seconds; the API's own hint is sub-second (the backlog's excess at 2,500/s).
  expect(refused.headers['retry-after']).toBe('1');
  const hintMs = Number(refused.headers['retry-after-ms']);
  expect(hintMs).toBeGreaterThanOrEqual(100);
  expect(hintMs).toBeLessThanOrEqual(1000);

  await stack.request({ method: 'POST', url: `/v1/destinations/${d.destinationId}/stream/resume` });
  const s = await waitIdle(stack, d.destinationId, accepted, 60_000);
  expect(s.sent).toBe(accepted);
  expect(stack.sim.admin.contactCount(d.portalId)).toBe(accepted);
  expectBalanced(s);
});

test('a lag above the threshold alerts subscribed webhooks once (here during a HubSpot outage)', async () => {
  const got: Array<{ type: string; stream?: { lagMs: number; thresholdMs: number; buffered?: number }; destination: { id: string } }> = [];
  const receiver = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      got.push(JSON.parse(raw));
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const d = await createDestination(stack);
  try {
    await activateAudience(stack, d.destinationId, AUD_A);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const sub = await stack.request({
      method: 'POST',
      url: `/v1/destinations/${d.destinationId}/alerts`,
      payload: { url, events: ['stream.lag_above_threshold'] },
    });
    expect(sub.statusCode).toBe(201);
    expect(
      (await stack.request({ method: 'PATCH', url: `/v1/destinations/${d.destinationId}/stream`, payload: { lagAlertMs: 1500 } }))
        .statusCode,
    ).toBe(202);
    await waitFor(async () => (await streamStats(stack, d.destinationId)).options?.lagAlertMs === 1500, { what: 'lag setting' });

    stack.sim.admin.setFaults({ errorRate: 1, errorStatuses: [503], routes: ['/crm/v3/objects/contacts/batch/upsert'] });
    await sendProfiles(stack, d.destinationId, [{ email: 'lagging@example.com', statuses: { [AUD_A.id]: 'realized' } }]);
    await waitFor(() => got.length > 0, { timeoutMs: 30_000, what: 'the lag alert' });
    expect(got[0]).toMatchObject({
      type: 'stream.lag_above_threshold',
      destination: { id: d.destinationId },
      stream: { thresholdMs: 1500, buffered: 1 },
    });
    expect(got[0].stream!.lagMs).toBeGreaterThanOrEqual(1500);
    await new Promise((r) => setTimeout(r, 2000));
    expect(got).toHaveLength(1); // once per crossing, not on every check
    stack.sim.admin.clearFaults();
    await waitIdle(stack, d.destinationId, 1, 60_000);
    expect(contact('lagging@example.com', d)).toBeDefined();
  } finally {
    stack.sim.admin.clearFaults();
    await new Promise((r) => receiver.close(r));
  }
});

test('only changes are sent: an update equal to what HubSpot last confirmed (by the stream or a batch run) is counted unchanged', async () => {
  const d = await createDestination(stack);
  await activateAudience(stack, d.destinationId, AUD_A);
  const a = { [AUD_A.id]: 'realized' };
  const email = 'same@example.com';
  await sendProfiles(stack, d.destinationId, [{ email, at: '2024-05-01T10:00:01Z', statuses: a, first: 'Ana', city: 'Porto' }]);
  let s = await waitIdle(stack, d.destinationId, 1);
  expect(s).toMatchObject({ sent: 1, unchanged: 0 });
  const calls = upsertCalls(stack);

  // Newer, same values: not sent. Its time still counts as written, so a late older update is stale.
  await sendProfiles(stack, d.destinationId, [{ email, at: '2024-05-01T10:00:03Z', statuses: a, first: 'Ana', city: 'Porto' }]);
  s = await waitIdle(stack, d.destinationId, 2);
  expect(s).toMatchObject({ sent: 1, unchanged: 1 });
  await sendProfiles(stack, d.destinationId, [{ email, at: '2024-05-01T10:00:02Z', statuses: a, first: 'Late', city: 'Porto' }]);
  s = await waitIdle(stack, d.destinationId, 3);
  expect(s).toMatchObject({ sent: 1, unchanged: 1, stale: 1 });
  expect(upsertCalls(stack)).toBe(calls);
  expect(stack.sim.admin.getContact(d.portalId, email)!.properties).toMatchObject({ firstname: 'Ana' });

  // A changed value or status is sent.
  await sendProfiles(stack, d.destinationId, [
    { email, at: '2024-05-01T10:00:04Z', statuses: { [AUD_A.id]: 'exited' }, first: 'Ana', city: 'Porto' },
  ]);
  s = await waitIdle(stack, d.destinationId, 4);
  expect(s).toMatchObject({ sent: 2, unchanged: 1 });
  expect(stack.sim.admin.getContact(d.portalId, email)!.properties).toMatchObject({ [PROP_A]: 'exited' });

  // A batch run's confirmed state serves the stream too: the same values streamed afterwards are not sent.
  const file = path.join(stack.dataDir, 'samples', `stream-memory-${d.destinationId}.ndjson`);
  fs.writeFileSync(file, JSON.stringify(xdm({ email: 'batch@example.com', statuses: a, first: 'Bo', city: 'Oslo' })) + '\n');
  const run = await startActivation(stack, d.destinationId, { path: file }, AUD_A);
  expect((await waitForEnd(stack, run, 60_000)).status).toBe('completed');
  const afterBatch = upsertCalls(stack);
  await sendProfiles(stack, d.destinationId, [
    { email: 'batch@example.com', at: '2024-05-01T11:00:00Z', statuses: a, first: 'Bo', city: 'Oslo' },
  ]);
  s = await waitIdle(stack, d.destinationId, 5);
  expect(s).toMatchObject({ sent: 2, unchanged: 2 });
  expect(upsertCalls(stack)).toBe(afterBatch);
  expectBalanced(s);
});
