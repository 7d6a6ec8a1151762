/**
 * Alerts end to end: webhook subscriptions through the API, events emitted by real activations on the
 * stack, delivered by the worker to a local HTTP receiver with HMAC-SHA256 signatures, retried on 500
 * until delivered, and a receiver that gives up for good does not fail the activation.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError } from '@temporalio/client';
import { verifyAlertSignature } from '../../src/alerts/signature';
import { createLogger } from '../../src/logger';
import { serviceMetrics } from '../../src/metrics/service-metrics';
import { startActivation, waitForEnd, writeMembers } from '../helpers/activation';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(240_000);

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: {
    id: string;
    type: string;
    alertId: string;
    activationId?: string;
    status?: string;
    counts?: Record<string, unknown>;
    links: { webUi: string };
    destination: { id: string; name: string };
    failure?: { type?: string; message: string };
    waitingUntil?: string;
  };
  answered: number;
}

let stack: TestStack;
let receiver: http.Server;
let base: string;
const received: Received[] = [];
const attemptsByDelivery = new Map<string, number>();

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as Received['body'];
      const n = (attemptsByDelivery.get(body.id) ?? 0) + 1;
      attemptsByDelivery.set(body.id, n);
      // /flaky: the first two attempts of each delivery fail with 500; /gone: 410 for good.
      const status = req.url === '/gone' ? 410 : req.url === '/flaky' && n <= 2 ? 500 : 200;
      received.push({ path: req.url ?? '', headers: req.headers, raw, body, answered: status });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  // The receiver listens on loopback: allowed only with ALERT_ALLOW_PRIVATE_URLS (issue 18).
  stack = await startStack({ env: { ALERT_ALLOW_PRIVATE_URLS: 'true' }, logger: createLogger({ level: 'error', name: 'test' }) });
});

afterAll(async () => {
  await stack?.close();
  await new Promise((r) => receiver?.close(r));
});

async function subscribe(destinationId: string, body: { url: string; events: string[]; secret?: string }) {
  const res = await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/alerts`, payload: body });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; url: string; events: string[]; secret: string }>();
}

const deliveriesOf = (type: string, activationId: string, path?: string) =>
  received.filter((r) => r.body.type === type && r.body.activationId === activationId && (!path || r.path === path));

test('webhook URLs are checked: http(s) only, no credentials, no link-local or metadata hosts', async () => {
  const { destinationId } = await createDestination(stack);
  for (const url of [
    'http://169.254.169.254/latest/meta-data',
    'http://metadata.google.internal/x',
    'ftp://example.com/hook',
    'https://user:pw@example.com/hook',
    'http://[fe80::1]/hook',
    'http://0.0.0.0:80/',
  ]) {
    const res = await stack.request({
      method: 'POST',
      url: `/v1/destinations/${destinationId}/alerts`,
      payload: { url, events: ['activation.failed'] },
    });
    expect({ url, status: res.statusCode }).toEqual({ url, status: 422 });
    expect(res.json().error.code).toBe('ALERT_URL_NOT_ALLOWED');
  }
  const unknownEvent = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/alerts`,
    payload: { url: `${base}/ok`, events: ['activation.exploded'] },
  });
  expect(unknownEvent.statusCode).toBe(400);
  const missing = await stack.request({
    method: 'POST',
    url: '/v1/destinations/dst-nope/alerts',
    payload: { url: `${base}/ok`, events: ['activation.failed'] },
  });
  expect(missing.statusCode).toBe(404);
});

test('subscriptions: created with a secret shown once, listed without it, deleted', async () => {
  const { destinationId } = await createDestination(stack);
  const created = await subscribe(destinationId, { url: `${base}/ok`, events: ['activation.failed', 'activation.failed'] });
  expect(created.secret).toMatch(/^whsec_/);
  expect(created.events).toEqual(['activation.failed']);
  const list = await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}/alerts` });
  expect(list.json()).toEqual({ items: [{ id: created.id, url: `${base}/ok`, events: ['activation.failed'] }] });
  expect(list.body).not.toContain(created.secret);
  const dest = await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}` });
  expect(dest.body).not.toContain('sealed');
  // Stored sealed, never in plaintext.
  const stored = await stack.services.destinations.get(destinationId);
  expect(JSON.stringify(stored)).not.toContain(created.secret);

  expect((await stack.request({ method: 'DELETE', url: `/v1/destinations/${destinationId}/alerts/${created.id}` })).statusCode).toBe(204);
  expect((await stack.request({ method: 'DELETE', url: `/v1/destinations/${destinationId}/alerts/${created.id}` })).statusCode).toBe(404);
  expect((await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}/alerts` })).json()).toEqual({ items: [] });
});

test('an activation sends signed started and completed alerts; 500s are retried; a receiver that gives up does not fail the run', async () => {
  const { destinationId } = await createDestination(stack);
  const flakySecret = 'a-test-secret-of-sufficient-length';
  const flaky = await subscribe(destinationId, { url: `${base}/flaky`, events: ['activation.started'], secret: flakySecret });
  expect(flaky.secret).toBe(flakySecret);
  const ok = await subscribe(destinationId, {
    url: `${base}/ok`,
    events: ['activation.started', 'activation.completed', 'activation.completed_with_rejections', 'activation.failed'],
  });
  await subscribe(destinationId, { url: `${base}/gone`, events: ['activation.completed'] });
  const failedBefore =
    (await serviceMetrics().alertDeliveries.get()).values.find(
      (v) => v.labels.event === 'activation.completed' && v.labels.outcome === 'failed',
    )?.value ?? 0;

  const { file, profiles } = writeMembers(stack, 'alerts-ok', 40);
  const activationId = await startActivation(stack, destinationId, { path: file });
  const end = await waitForEnd(stack, activationId);
  expect(end.status).toBe('completed');

  // The activation's own result is unaffected; the deliveries finish on their own (abandoned children).
  await waitFor(() => deliveriesOf('activation.started', activationId, '/flaky').some((r) => r.answered === 200), {
    what: 'flaky started delivery',
    timeoutMs: 60_000,
  });
  await waitFor(() => deliveriesOf('activation.completed', activationId, '/ok').length > 0, { what: 'completed delivery' });

  const flakyTries = deliveriesOf('activation.started', activationId, '/flaky');
  expect(flakyTries.map((r) => r.answered)).toEqual([500, 500, 200]);
  expect(new Set(flakyTries.map((r) => r.body.id)).size).toBe(1); // one delivery id across retries
  for (const r of flakyTries) expect(verifyAlertSignature(flakySecret, r.raw, r.headers)).toBe(true);
  expect(verifyAlertSignature('another-secret-of-some-length', flakyTries[0].raw, flakyTries[0].headers)).toBe(false);
  expect(
    verifyAlertSignature(flakySecret, flakyTries[0].raw.replace('"activation.started"', '"activation.failed"'), flakyTries[0].headers),
  ).toBe(false);

  const [started] = deliveriesOf('activation.started', activationId, '/ok');
  expect(started).toBeDefined();
  expect(verifyAlertSignature(ok.secret, started.raw, started.headers)).toBe(true);
  expect(started.headers['x-destination-event']).toBe('activation.started');

  const [completed] = deliveriesOf('activation.completed', activationId, '/ok');
  expect(verifyAlertSignature(ok.secret, completed.raw, completed.headers)).toBe(true);
  expect(completed.body).toMatchObject({
    type: 'activation.completed',
    alertId: ok.id,
    activationId,
    status: 'completed',
    destination: { id: destinationId, name: 'Test destination' },
    counts: { received: 40, upserted: profiles.length, rejected: 0 },
  });
  expect(completed.body.links.webUi).toContain(`/workflows/${activationId}/`);
  // No personal data: no email, no first or last name from the members.
  for (const r of received) {
    expect(r.raw).not.toMatch(/@/);
    for (const p of profiles.slice(0, 10)) expect(r.raw).not.toContain(p.person.name.lastName);
  }
  expect(deliveriesOf('activation.completed_with_rejections', activationId)).toHaveLength(0);

  // /gone: 410 is final at once; its delivery workflow fails visibly, the activation did not.
  await waitFor(() => deliveriesOf('activation.completed', activationId, '/gone').length > 0, { what: 'gone delivery' });
  const child = stack.client.workflow.getHandle(`${activationId}-alert-completed`);
  const err = await child.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause?.message).toMatch(/gave up/);
  expect(deliveriesOf('activation.completed', activationId, '/gone')).toHaveLength(1);
  const failedAfter =
    (await serviceMetrics().alertDeliveries.get()).values.find(
      (v) => v.labels.event === 'activation.completed' && v.labels.outcome === 'failed',
    )?.value ?? 0;
  expect(failedAfter).toBe(failedBefore + 1);
  expect((await stack.client.workflow.getHandle(activationId).describe()).status.name).toBe('COMPLETED');
});

test('a failed activation sends activation.failed with the reason', async () => {
  const { destinationId, portalId, token } = await createDestination(stack);
  const ok = await subscribe(destinationId, { url: `${base}/ok`, events: ['activation.failed', 'activation.completed'] });
  stack.sim.admin.revokeToken(portalId, token);
  const { file } = writeMembers(stack, 'alerts-failed', 5);
  const activationId = await startActivation(stack, destinationId, { path: file });
  expect((await waitForEnd(stack, activationId)).status).toBe('failed');
  await waitFor(() => deliveriesOf('activation.failed', activationId).length > 0, { what: 'failed delivery' });
  const [failed] = deliveriesOf('activation.failed', activationId);
  expect(verifyAlertSignature(ok.secret, failed.raw, failed.headers)).toBe(true);
  expect(failed.body).toMatchObject({ status: 'failed', failure: { type: 'HubSpotAuthFailed' } });
  expect(failed.raw).not.toContain(token);
  expect(deliveriesOf('activation.completed', activationId)).toHaveLength(0);
});

test("waiting on HubSpot's daily limit sends activation.waiting_daily_limit with the reset time", async () => {
  const { destinationId, portalId } = await createDestination(stack);
  await subscribe(destinationId, { url: `${base}/ok`, events: ['activation.waiting_daily_limit'] });
  stack.sim.admin.setLimits(portalId, { daily: 12 });
  const { file } = writeMembers(stack, 'alerts-daily', 1500);
  const activationId = await startActivation(stack, destinationId, { path: file });
  await waitFor(() => deliveriesOf('activation.waiting_daily_limit', activationId).length > 0, {
    what: 'waiting delivery',
    timeoutMs: 90_000,
  });
  const [waiting] = deliveriesOf('activation.waiting_daily_limit', activationId);
  expect(waiting.body.status).toBe('waiting');
  expect(Date.parse(waiting.body.waitingUntil!)).toBeGreaterThan(Date.now());
  expect((await stack.request({ method: 'POST', url: `/v1/activations/${activationId}/cancel` })).statusCode).toBeLessThan(300);
  expect((await waitForEnd(stack, activationId)).status).toBe('cancelled');
});
