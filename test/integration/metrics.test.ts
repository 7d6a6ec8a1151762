/**
 * Metrics after a real activation: the worker's metrics server (the service's counters followed by the
 * Temporal SDK's Prometheus exporter) and the API's /metrics (request counts, API key required).
 */
import fs from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTemporalCli } from '../../src/dev/temporal-binaries';
import { createLogger } from '../../src/logger';
import { freePort, startMetricsServer, type MetricsServer } from '../../src/metrics/server';
import { serviceMetrics } from '../../src/metrics/service-metrics';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { AUDIENCE, startActivation, UPSERT_ROUTE, waitForEnd, writeMembers } from '../helpers/activation';
import { createDestination, startStack, type TestStack } from '../helpers/stack';

jest.setTimeout(240_000);

let env: TestWorkflowEnvironment;
let stack: TestStack;
let server: MetricsServer;

beforeAll(async () => {
  const logger = createLogger({ level: 'error', name: 'test' });
  // As the worker's main does with METRICS_PORT: the SDK exporter on a loopback port, merged by our server.
  const sdkPort = await freePort();
  installTemporalRuntime(logger, { metricsBindAddress: `127.0.0.1:${sdkPort}` });
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: resolveTemporalCli() },
      searchAttributes: SEARCH_ATTRIBUTES,
      log: { format: 'json', level: 'error' },
    },
  });
  stack = await startStack({ temporal: env, logger });
  server = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    metrics: serviceMetrics(),
    sdkMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics`,
  });
});

afterAll(async () => {
  await server?.close();
  await stack?.close();
  await env?.teardown();
});

/** Sum of the samples of `name` whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

const scrape = async () => {
  const res = await fetch(server.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
};

test('after an activation the worker exposes contacts, HubSpot calls, 429s by policy, governor waits and SDK metrics', async () => {
  const { destinationId } = await createDestination(stack);
  const { file, profiles } = writeMembers(stack, 'metrics', 250);
  // Three members with a broken email: rejected with INVALID_EMAIL.
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  for (const i of [3, 50, 120]) {
    const p = JSON.parse(lines[i]);
    p.identityMap.Email = [{ id: `broken-${i}`, primary: true }];
    lines[i] = JSON.stringify(p);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  // Two unexpected 429s on the upsert route: counted by policy, and the governor backs off.
  stack.sim.admin.setFaults({ rateLimitBurst: 2, routes: ['/crm/v3/objects/contacts/batch/upsert'] });

  const before = await scrape();
  const activationId = await startActivation(stack, destinationId, { path: file }, AUDIENCE);
  const end = await waitForEnd(stack, activationId);
  stack.sim.admin.clearFaults();
  expect(end.status).toBe('completed_with_rejections');
  const after = await scrape();
  const delta = (name: string, labels?: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);

  expect(end.summary.upserted).toBe(profiles.length - 3);
  expect(delta('hsd_contacts_upserted_total', { mode: 'batch' })).toBe(end.summary.upserted);
  expect(end.summary.rejectedByReason).toEqual({ INVALID_EMAIL: 3 });
  expect(delta('hsd_contacts_rejected_total', { mode: 'batch', reason: 'INVALID_EMAIL' })).toBe(3);

  const upsertPath = UPSERT_ROUTE.replace(/^POST /, '');
  expect(delta('hsd_hubspot_requests_total', { route: upsertPath, method: 'POST', status: '200' })).toBeGreaterThanOrEqual(3);
  expect(delta('hsd_hubspot_requests_total', { route: upsertPath, method: 'POST', status: '429' })).toBe(2);
  expect(delta('hsd_hubspot_rate_limited_total', { policy: 'TEN_SECONDLY_ROLLING' })).toBe(2);
  expect(delta('hsd_hubspot_requests_total', { route: '/crm/v3/properties/contacts', method: 'GET' })).toBeGreaterThanOrEqual(1);
  expect(delta('hsd_hubspot_request_duration_seconds_count', { route: upsertPath })).toBeGreaterThanOrEqual(5);
  expect(delta('hsd_rate_governor_waits_total')).toBeGreaterThanOrEqual(1);
  expect(delta('hsd_rate_governor_wait_seconds_count')).toBe(delta('hsd_rate_governor_waits_total'));

  // The Temporal SDK's worker metrics come in the same scrape.
  expect(after).toMatch(/^temporal_[a-z_]+/m);
  expect(
    sample(after, 'temporal_activity_execution_latency_count') + sample(after, 'temporal_activity_execution_latency_seconds_count'),
  ).toBeGreaterThan(0);
  // Labels never carry personal data.
  expect(after).not.toMatch(/@/);
});

test('stream lag gauge and default process metrics are exposed', async () => {
  serviceMetrics().recordStreamLag('dst-lag-test', 2500);
  const text = await scrape();
  expect(sample(text, 'hsd_stream_lag_seconds', { destination_id: 'dst-lag-test' })).toBe(2.5);
  expect(sample(text, 'hsd_process_resident_memory_bytes')).toBeGreaterThan(0);
});

test('the API serves its own /metrics with request counts, behind the API key', async () => {
  const { destinationId } = await createDestination(stack);
  await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}` });
  await stack.request({ method: 'GET', url: '/v1/destinations/dst-missing' });
  expect((await stack.api.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
  const res = await stack.request({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  expect(
    sample(res.body, 'hsd_api_requests_total', { method: 'GET', route: '/v1/destinations/:id', status: '200' }),
  ).toBeGreaterThanOrEqual(1);
  expect(
    sample(res.body, 'hsd_api_requests_total', { method: 'GET', route: '/v1/destinations/:id', status: '404' }),
  ).toBeGreaterThanOrEqual(1);
  expect(sample(res.body, 'hsd_api_requests_total', { method: 'POST', route: '/v1/destinations', status: '201' })).toBeGreaterThanOrEqual(
    1,
  );
  expect(res.body).not.toContain('dst-missing'); // route patterns, not URLs
});
