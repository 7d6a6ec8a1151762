/**
 * `npm start`: the whole stack on embedded defaults, in one command.
 *  - a Temporal dev server (official CLI) with its state in DATA_DIR/temporal.db and the Web UI,
 *    unless TEMPORAL_ADDRESS points at an existing server;
 *  - the HubSpot simulator with a demo account, unless HUBSPOT_TOKEN configures a real HubSpot account;
 *  - the worker and the API (port API_PORT).
 * Prints the URLs; Ctrl-C stops everything cleanly.
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { buildApi } from '../api/server';
import { loadConfig, type Config } from '../config';
import { startHubSpotSimulator, type RunningSimulator } from '../hubspot-sim';
import { createLogger, openLogFile } from '../logger';
import { createServices } from '../runtime/services';
import { connectClient } from '../temporal/connection';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { createWorker, installRuntimeWithMetrics } from '../worker';
import { ensureDemoAccount } from './demo-account';
import { startTemporalDevServer, type DevServer } from './temporal-dev-server';
import { devCodecAccess, prepareLocalKeys } from './local-keys';

async function main(): Promise<void> {
  let config: Config = loadConfig();
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(config.dataDir, 'logs', 'stack.log');
  // Everything goes to the log file; warnings and errors also to the terminal.
  const logger = createLogger({
    level: config.logLevel,
    destination: pino.multistream([
      { level: 'trace', stream: openLogFile(logFile) }, // 0600 in a 0700 folder
      { level: 'warn', stream: process.stderr },
    ]),
  });
  // With METRICS_PORT: the worker's metrics (service + Temporal SDK) on that port, as `npm run worker` does.
  const metricsServer = await installRuntimeWithMetrics(config, logger);
  const stops: Array<() => Promise<void>> = [];
  if (metricsServer) stops.push(() => metricsServer.close());
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => console.error(`while stopping: ${err.message}`));
  };

  try {
    const keys = prepareLocalKeys(config);
    // Keyless codec access for this loopback dev UI only (issue 18): printed below so nobody is surprised.
    const codecAccess = devCodecAccess(config);
    config = codecAccess.config;

    let temporal: DevServer | undefined;
    if (!config.temporal.address) {
      temporal = await startTemporalDevServer({
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port: config.temporal.devPort,
        uiPort: config.temporal.uiPort,
        searchAttributes: SEARCH_ATTRIBUTES.map((k) => k.name),
        codecEndpoint: keys.codecEndpoint,
        logFile: path.join(config.dataDir, 'logs', 'temporal.log'),
      });
      stops.push(() => temporal!.stop());
      config = { ...config, temporal: { ...config.temporal, address: temporal.address } };
    }

    let sim: RunningSimulator | undefined;
    let demo: { portalId: number; token: string } | undefined;
    if (!config.hubspot.token) {
      sim = await startHubSpotSimulator({ port: config.hubspot.simPort, snapshotPath: path.join(config.dataDir, 'hubspot-sim.json') });
      stops.push(() => sim!.close());
      demo = ensureDemoAccount(sim.admin);
      config = { ...config, hubspot: { ...config.hubspot, allowedBaseUrls: [...config.hubspot.allowedBaseUrls, sim.url] } };
    }

    const services = await createServices(config);
    stops.push(() => services.close());
    const worker = await createWorker(config, { logger: logger.child({ name: 'worker' }), services });
    stops.push(() => worker.shutdown());
    const client = await connectClient(config);
    stops.push(() => client.connection.close());
    const api = await buildApi({ config, client, services, logger: logger.child({ name: 'api' }) });
    await api.listen({ host: config.api.host, port: config.api.port });
    stops.push(() => api.close());

    const lines = [
      '',
      'HubSpot audience destination is running.',
      `  API            ${config.api.url}   (docs: ${config.api.url}/docs)`,
      `  API key        ${keys.apiKey}   (also in ${config.api.keyFile})`,
      `  Temporal       ${config.temporal.address}${temporal ? ` (dev server, state in ${path.join(config.dataDir, 'temporal.db')})` : ''}`,
      temporal?.uiUrl ? `  Temporal UI    ${temporal.uiUrl}` : `  Temporal UI    ${config.temporal.uiUrl}`,
      sim
        ? `  HubSpot sim    ${sim.url}   demo portal ${demo!.portalId}, token ${demo!.token}`
        : `  HubSpot        ${config.hubspot.baseUrl}`,
      `  Codec server   ${config.api.url}/codec: ${codecAccess.notice}`,
      `  Logs           ${logFile}`,
      ...(metricsServer ? [`  Metrics        ${metricsServer.url}   (API process: ${config.api.url}/metrics)`] : []),
      '',
      'Try it: npm run demo     Stop: Ctrl-C',
      '',
    ];
    console.log(lines.join('\n'));
  } catch (err) {
    console.error(`npm start failed: ${(err as Error).message}`);
    await stopAll();
    process.exit(1);
  }

  let stopping = false;
  const onSignal = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping ...');
    await stopAll();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void onSignal());
  process.on('SIGTERM', () => void onSignal());
}

void main();
