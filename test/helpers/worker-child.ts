/** A worker in its own process, for tests that kill -9 it. Config comes from the environment. */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createWorker } from '../../src/worker';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = loadConfig();
  const running = await createWorker(config, { logger: createLogger({ level: 'warn', name: 'worker-child' }) });
  process.stdout.write('WORKER_READY\n');
  process.once('SIGTERM', () => void running.shutdown());
  await running.done;
}

main().catch((err) => {
  process.stderr.write(`worker-child: ${(err as Error).message}\n`);
  process.exit(1);
});
