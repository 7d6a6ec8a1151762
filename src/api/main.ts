/** The API process (`npm run api`): the client API over Temporal. */
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { createServices } from '../runtime/services';
import { connectClient } from '../temporal/connection';
import { buildApi } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const services = await createServices(config);
  const client = await connectClient(config);
  const app = await buildApi({ config, client, services, logger });
  await app.listen({ host: config.api.host, port: config.api.port });
  const stop = async () => {
    await app.close();
    await client.connection.close();
    await services.close();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop());
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
