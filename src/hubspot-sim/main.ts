/**
 * `npm run hubspot-sim [-- --port 4010 --snapshot data/hubspot-sim.json --demo-account]`
 *
 * Prints one JSON line per event on stdout (`listening`, then `demo-account` with the portal id and the
 * token the demo needs); logs go to stderr. The demo account is reused from the snapshot on restart.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { startHubSpotSimulator } from './server';
import { DEFAULT_BEHAVIOUR, mergeBehaviour } from './state/behaviour';
import type { AccountBehaviour, Tier } from './types';

const DEMO_LABEL = 'demo';

function usage(): string {
  return [
    'Usage: npm run hubspot-sim -- [options]',
    '  --port <n>               port (default $HUBSPOT_SIM_PORT or 4010; 0 = any free port)',
    '  --host <addr>            bind address (default 127.0.0.1)',
    '  --snapshot <file>        load state from / save state to this JSON file',
    '  --demo-account           create (or reuse) a demo account and print its portalId and token',
    '  --demo-tier <tier>       tier of the demo account: free|starter|pro|enterprise (default pro)',
    '  --retry-after            send Retry-After on 429 responses',
    '  --search-per-second <n>  search requests per second per portal (default 5)',
    '  --pro-daily <n>          daily limit of the pro tier (default 625000; HubSpot also states 650000)',
    '  --upsert-partial <mode>  traced upserts with a bad record: per-record (207, default) | all-or-nothing (400)',
    '  --echo-trace-ids <bool>  whether upsert results carry objectWriteTraceId: true (default) | false',
    '  --burst-scope <scope>    10-second limit per app (default, as HubSpot documents) | account',
  ].join('\n');
}

/** The `--upsert-partial`, `--echo-trace-ids` and `--burst-scope` flags as account defaults (validated when accounts are made). */
function accountDefaults(values: Record<string, string | boolean | undefined>): Partial<AccountBehaviour> {
  const out: Record<string, unknown> = {};
  if (values['upsert-partial'] !== undefined) out.upsertPartial = values['upsert-partial'];
  if (values['burst-scope'] !== undefined) out.burstScope = values['burst-scope'];
  const echo = values['echo-trace-ids'];
  if (echo !== undefined) {
    if (echo !== 'true' && echo !== 'false') throw new Error(`--echo-trace-ids must be true or false, got ${String(echo)}`);
    out.echoTraceIds = echo === 'true';
  }
  return mergeBehaviour(DEFAULT_BEHAVIOUR, out);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      snapshot: { type: 'string' },
      'demo-account': { type: 'boolean' },
      'demo-tier': { type: 'string' },
      'retry-after': { type: 'boolean' },
      'search-per-second': { type: 'string' },
      'pro-daily': { type: 'string' },
      'upsert-partial': { type: 'string' },
      'echo-trace-ids': { type: 'string' },
      'burst-scope': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'hubspot-sim', destination: pino.destination(2) });
  const port = values.port === undefined ? config.hubspot.simPort : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid port: ${String(values.port)}`);
  const proDaily = values['pro-daily'] === undefined ? undefined : Number(values['pro-daily']);

  const sim = await startHubSpotSimulator({
    port,
    host: values.host,
    snapshotPath: values.snapshot,
    retryAfter: values['retry-after'] ?? false,
    searchPerSecond: values['search-per-second'] === undefined ? undefined : Number(values['search-per-second']),
    tierLimits: proDaily === undefined ? undefined : { pro: { daily: proDaily } },
    accountDefaults: accountDefaults(values),
    logger,
  });
  const print = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
  print({ event: 'listening', url: sim.url, port: sim.port, snapshot: values.snapshot ?? null });
  logger.info({ url: sim.url }, 'HubSpot simulator listening');

  if (values['demo-account']) {
    const existing = sim.admin.findAccountByLabel(DEMO_LABEL);
    let portalId: number;
    let token: string | undefined;
    if (existing) {
      portalId = existing.portalId;
      token = sim.admin.activeToken(portalId);
    } else {
      const created = sim.admin.createAccount({ tier: (values['demo-tier'] ?? 'pro') as Tier, label: DEMO_LABEL });
      portalId = created.portalId;
      token = created.token;
    }
    // The demo needs the token; it goes to stdout once, never to the log.
    print({ event: 'demo-account', portalId, token, reused: Boolean(existing) });
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'HubSpot simulator stopping');
    await sim.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`hubspot-sim: ${(err as Error).message}\n`);
  process.exit(1);
});
