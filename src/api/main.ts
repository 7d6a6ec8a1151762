/** The API process (`npm run api`): the client API over Temporal. */
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { createServices } from '../runtime/services';
import { ensureApiKeyDetailed } from '../secrets/api-keys';
import { connectClient } from '../temporal/connection';
import { buildApi } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const apiKey = ensureApiKeyDetailed(config);
  // The key itself never goes to the log: clients read it from the file (mode 0600) or API_KEYS.
  if (apiKey.created) logger.info({ file: apiKey.file }, 'created an API key; clients send it as Authorization: Bearer <key>');
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
