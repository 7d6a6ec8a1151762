/**
 * The worker process: runs the workflows and the activities that call HubSpot. Start several (on one or
 * several hosts) for availability and throughput; they share HubSpot's rate budget through the store.
 */
import path from 'node:path';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { createServices, type Services } from './runtime/services';
import { connectWorker } from './temporal/connection';
import { createDataConverter } from './temporal/data-converter';
import { installTemporalRuntime } from './temporal/runtime';

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

export interface RunningWorker {
  worker: Worker;
  services: Services;
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function createWorker(config: Config, options: { logger?: Logger; workerOptions?: Partial<WorkerOptions>; services?: Services } = {}): Promise<RunningWorker> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'worker' });
  const services = options.services ?? (await createServices(config));
  const connection = await connectWorker(config);
  const activities = createActivities({
    destinations: services.destinations,
    rejections: services.rejections,
    sealer: services.sealer,
    governor: services.governor,
    sourceReader: services.sourceReader,
    requestTimeoutMs: config.hubspot.requestTimeoutMs,
    allowedBaseUrls: config.hubspot.allowedBaseUrls,
    defaultPageSize: config.worker.pageSize,
    defaultConcurrency: config.worker.upsertConcurrency,
    streamMemory: services.streamMemory,
    logger,
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(config.worker.workflowBundlePath ? { workflowBundle: { codePath: config.worker.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    dataConverter: createDataConverter(config),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    // Give in-flight pages a moment to checkpoint on Ctrl-C; the rest resume elsewhere from heartbeats.
    shutdownGraceTime: '5 seconds',
    ...options.workerOptions,
  });
  const done = worker.run().finally(async () => {
    await connection.close();
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

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  installTemporalRuntime(logger);
  const running = await createWorker(config, { logger });
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker started');
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.shutdown());
  await running.done;
  logger.info('worker stopped');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
