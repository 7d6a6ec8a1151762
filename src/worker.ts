/**
 * The worker process: runs the workflows and the activities that call HubSpot. Start several (on one or
 * several hosts) for availability and throughput; they share HubSpot's rate budget through the store.
 */
import path from 'node:path';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig, type Config } from './config';
import { PropertyCache } from './destinations/property-cache';
import { createLogger, type Logger } from './logger';
import { freePort, startMetricsServer, type MetricsServer } from './metrics/server';
import { serviceMetrics, type ServiceMetrics } from './metrics/service-metrics';
import { createServices, type Services } from './runtime/services';
import { connectClient, connectWorker } from './temporal/connection';
import type { Client } from '@temporalio/client';
import { createDataConverter } from './temporal/data-converter';
import { installTemporalRuntime } from './temporal/runtime';
import { webhookHostPolicy } from './alerts/webhook-url';

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

export interface RunningWorker {
  worker: Worker;
  services: Services;
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function createWorker(
  config: Config,
  options: { logger?: Logger; workerOptions?: Partial<WorkerOptions>; services?: Services; metrics?: ServiceMetrics } = {},
): Promise<RunningWorker> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'worker' });
  const metrics = options.metrics ?? serviceMetrics();
  const services = options.services ?? (await createServices(config));
  const connection = await connectWorker(config);
  // Scheduled sync runs ask whether the holder of an audience's run slot still runs (activities/syncs.ts);
  // the client connects on first use only.
  let client: Promise<Client> | undefined;
  const activationRunState = async (activationId: string): Promise<'running' | 'closed' | 'missing'> => {
    client ??= connectClient(config);
    try {
      const desc = await (await client).workflow.getHandle(activationId).describe();
      return desc.status.name === 'RUNNING' ? 'running' : 'closed';
    } catch (err) {
      if ((err as { name?: string }).name === 'WorkflowNotFoundError' || (err as { code?: number }).code === 5) return 'missing';
      throw err;
    }
  };
  const activities = createActivities({
    syncRuns: services.activations,
    activationRunState,
    destinations: services.destinations,
    rejections: services.rejections,
    plans: services.plans,
    checkpoints: services.checkpoints,
    sealer: services.sealer,
    governor: services.governor,
    sourceReader: services.sourceReader,
    requestTimeoutMs: config.hubspot.requestTimeoutMs,
    apiVersion: config.hubspot.apiVersion,
    allowedBaseUrls: config.hubspot.allowedBaseUrls,
    defaultPageSize: config.worker.pageSize,
    defaultConcurrency: config.worker.upsertConcurrency,
    defaultMaxPages: config.worker.pagesPerActivity,
    defaultMaxMillis: config.worker.activityMaxMillis,
    propertyCache: new PropertyCache(),
    streamMemory: services.streamMemory,
    contactMemory: services.contactMemory,
    listIntents: services.listIntents,
    contactMemoryEnabled: config.worker.contactMemory,
    streamHolds: services.streamHolds,
    ingestLog: services.ingestLog,
    logger,
    metrics,
    onCall: metrics.onHubSpotCall,
    onRateWait: metrics.onRateWait,
    webUi: { url: config.temporal.uiUrl, namespace: config.temporal.namespace },
    alertPolicy: webhookHostPolicy(config.alerts),
    alertTimeoutMs: config.alerts.timeoutMs,
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(config.worker.workflowBundlePath
      ? { workflowBundle: { codePath: config.worker.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    dataConverter: createDataConverter(config),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    // Heartbeats are how a page activity learns that its run was cancelled: send them at least every
    // second (the SDK's default is 80% of the heartbeat timeout, 24 s), so a cancelled run stops sending
    // within about a second instead of writing on for tens of seconds.
    maxHeartbeatThrottleInterval: '1 second',
    // Give in-flight pages a moment to checkpoint on Ctrl-C; the rest resume elsewhere from heartbeats.
    shutdownGraceTime: '5 seconds',
    ...options.workerOptions,
  });
  const done = worker.run().finally(async () => {
    await connection.close();
    if (client) await (await client.catch(() => undefined))?.connection.close();
    if (!options.services) await services.close();
  });
  return {
    worker,
    services,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/**
 * Installs the Temporal runtime (logs through pino) and, with METRICS_PORT, serves `GET /metrics` on
 * METRICS_HOST:METRICS_PORT: the service's metrics followed by the SDK's, whose Prometheus exporter
 * gets a free loopback port of its own (src/metrics/server.ts).
 */
export async function installRuntimeWithMetrics(config: Config, logger: Logger): Promise<MetricsServer | undefined> {
  if (config.worker.metricsPort === undefined) {
    installTemporalRuntime(logger);
    return undefined;
  }
  const sdkPort = await freePort();
  installTemporalRuntime(logger, { metricsBindAddress: `127.0.0.1:${sdkPort}` });
  return startMetricsServer({
    host: config.worker.metricsHost,
    port: config.worker.metricsPort,
    metrics: serviceMetrics(),
    sdkMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics`,
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const metricsServer = await installRuntimeWithMetrics(config, logger);
  const running = await createWorker(config, { logger });
  logger.info(
    { taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, metrics: metricsServer?.url },
    'worker started',
  );
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.shutdown());
  await running.done;
  await metricsServer?.close();
  logger.info('worker stopped');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
