/**
 * A real stack for integration tests: a Temporal dev server (the official CLI, via @temporalio/testing
 * with an existing binary), the HubSpot simulator, the shared store in a temp data dir, a worker and the
 * API (driven with fastify's inject). Nothing is mocked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { Logger as TemporalLogger } from '@temporalio/common';
import type { InjectOptions, Response as LightMyRequestResponse } from 'light-my-request';
import { buildApi, type Api } from '../../src/api/server';
import { loadConfig, type Config } from '../../src/config';
import { resolveTemporalCli } from '../../src/dev/temporal-binaries';
import { startHubSpotSimulator, type RunningSimulator } from '../../src/hubspot-sim';
import { createLogger, type Logger } from '../../src/logger';
import { createServices, type Services } from '../../src/runtime/services';
import { connectClient } from '../../src/temporal/connection';
import { FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { createWorker, WORKFLOWS_PATH, type RunningWorker } from '../../src/worker';

let runtimeInstalled = false;
/** Keep test output readable: activity failures are expected in many tests (the SDK logs them as warnings). */
export function quietRuntime(logger: TemporalLogger = new DefaultLogger('ERROR')): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  // A test may install its own (capturing) logger by calling this first. Core (Rust) logs: errors only.
  Runtime.install({
    logger,
    telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

export async function startTemporal(options: { dbFilename?: string; extraArgs?: string[] } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: resolveTemporalCli() },
      searchAttributes: SEARCH_ATTRIBUTES,
      dbFilename: options.dbFilename,
      extraArgs: options.extraArgs,
      log: { format: 'json', level: 'error' },
    },
  });
}

export function tempDir(prefix = 'hsd-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

export interface TestStack {
  env: TestWorkflowEnvironment;
  sim: RunningSimulator;
  config: Config;
  services: Services;
  client: Client;
  api: Api;
  /** The API with the test API key (every route but /healthz needs one). */
  request(opts: InjectOptions): Promise<LightMyRequestResponse>;
  worker?: RunningWorker;
  dataDir: string;
  /** The environment the stack's config was read from (for worker child processes). */
  envVars: Record<string, string>;
  startWorker(): Promise<RunningWorker>;
  close(): Promise<void>;
}

export async function startStack(
  options: {
    env?: Record<string, string>;
    worker?: boolean;
    temporal?: TestWorkflowEnvironment;
    sim?: RunningSimulator;
    logger?: Logger;
  } = {},
): Promise<TestStack> {
  const env = options.temporal ?? (await startTemporal());
  const sim = options.sim ?? (await startHubSpotSimulator({ port: 0 }));
  const dataDir = tempDir();
  const envVars: Record<string, string> = {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: `test-${path.basename(dataDir)}`,
    HUBSPOT_ALLOWED_BASE_URLS: sim.url,
    HUBSPOT_REQUEST_TIMEOUT_MS: '5000',
    // The suites written against the legacy paths (their route assertions name /crm/v3/) stay on them;
    // test/integration/api-versions.test.ts runs the default 2026-03 and an explicit v3.
    HUBSPOT_API_VERSION: 'v3',
    API_KEYS: TEST_API_KEY,
    ...options.env,
  };
  const config = loadConfig(envVars);
  const services = await createServices(config);
  const client = await connectClient(config);
  const logger = options.logger ?? createLogger({ level: 'warn', name: 'test' });
  const api = await buildApi({ config, client, services, logger });
  const bundleCode = await workflowBundle();
  const stack: TestStack = {
    env,
    sim,
    config,
    services,
    client,
    api,
    dataDir,
    envVars,
    request: (opts) => api.inject({ ...opts, headers: { authorization: `Bearer ${TEST_API_KEY}`, ...opts.headers } }),
    async startWorker() {
      stack.worker = await createWorker(config, {
        logger,
        services,
        workerOptions: { workflowBundle: bundleCode, workflowsPath: undefined },
      });
      return stack.worker;
    },
    async close() {
      await stack.worker?.shutdown().catch(() => undefined);
      await api.close();
      await client.connection.close();
      await services.close();
      if (!options.sim) await sim.close();
      if (!options.temporal) await env.teardown();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (options.worker !== false) await stack.startWorker();
  return stack;
}

/** Creates a destination through the API on a fresh simulator account; returns ids and the token. */
export interface DestinationOptions {
  mapping?: Array<{ source: string; target: string }>;
  /** The destination's `hubspot.apiVersion` (absent = the deployment's HUBSPOT_API_VERSION). */
  apiVersion?: string;
}

/** A destination on a new simulator account. */
export async function createDestination(
  stack: TestStack,
  options: DestinationOptions & { account?: Parameters<RunningSimulator['admin']['createAccount']>[0] } = {},
) {
  const account = stack.sim.admin.createAccount(options.account ?? { tier: 'pro' });
  const destinationId = await destinationWithToken(stack, account.token, options);
  return { destinationId, portalId: account.portalId, token: account.token };
}

/** A destination on an existing simulator account (several destinations may share one); answers its id. */
export async function destinationWithToken(stack: TestStack, token: string, options: DestinationOptions = {}): Promise<string> {
  const res = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: {
      name: 'Test destination',
      hubspot: { token, baseUrl: stack.sim.url, ...(options.apiVersion ? { apiVersion: options.apiVersion } : {}) },
      mapping: { attributes: options.mapping ?? DEFAULT_MAPPING },
    },
  });
  if (res.statusCode !== 201) throw new Error(`create destination: ${res.statusCode} ${res.body}`);
  return res.json<{ id: string }>().id;
}

export const DEFAULT_MAPPING = [
  { source: 'person.name.firstName', target: 'firstname' },
  { source: 'person.name.lastName', target: 'lastname' },
  { source: 'workAddress.city', target: 'city' },
  { source: 'workAddress.country', target: 'country' },
];

/** Polls until `fn` returns a truthy value. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}
