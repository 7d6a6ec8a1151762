/**
 * Starts the simulator: one node:http server (no framework on the hot path), HubSpot routes plus the
 * `/__sim` admin API, optional snapshot persistence. `close()` ends hung requests and open sockets.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { SimAdmin } from './admin';
import { Faults } from './faults';
import { writeJson } from './http/io';
import { Lifecycle } from './http/lifecycle';
import { HubSpotPipeline } from './http/pipeline';
import { normalisePath, Router } from './http/router';
import type { TierLimits } from './limits/tiers';
import { accountRoutes } from './routes/account';
import { AdminHttp } from './routes/admin';
import { batchCreateRoute } from './routes/batch-create';
import { batchUpsertRoute } from './routes/batch-upsert';
import { contactRoutes } from './routes/contacts';
import { listRoutes } from './routes/lists';
import { mergeArchiveRoutes } from './routes/merge-archive';
import { propertyRoutes } from './routes/properties';
import { searchRoute } from './routes/search';
import type { HubSpotRoute, SimState } from './routes/types';
import { API_VERSIONS, CONTACT_OBJECT_TYPES, objectsBase, propertiesBase } from './routes/versions';
import { loadSnapshot, SnapshotWriter } from './snapshot';
import { AccountStore } from './state/accounts';
import { Stats } from './stats';
import type { AccountBehaviour, Tier } from './types';

export interface SimulatorOptions {
  /** 0 picks a free port. Default 4010. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** JSON file: loaded at start, written a little after changes and on close. */
  snapshotPath?: string;
  /** Send `Retry-After` on 429s (also switchable at run time via settings). Default false. */
  retryAfter?: boolean;
  /** Search requests per second per portal. Default 5. */
  searchPerSecond?: number;
  /** Override tier limits, e.g. `{pro: {daily: 650_000}}`. */
  tierLimits?: Partial<Record<Tier, Partial<TierLimits>>>;
  /** Debounce of snapshot writes. Default 1000 ms. */
  snapshotDebounceMs?: number;
  /**
   * Time source for rate limits, daily resets and timestamps (test hook: lets a suite step over a
   * 10-second window or a midnight without waiting). Default `Date.now`.
   */
  clock?: () => number;
  /** Behaviour of new accounts where HubSpot leaves it open (each account can override it). */
  accountDefaults?: Partial<AccountBehaviour>;
  /** Only startup problems and handler crashes are logged; never per request. Default: no logging. */
  logger?: Logger;
}

export interface RunningSimulator {
  url: string;
  port: number;
  admin: SimAdmin;
  close(): Promise<void>;
}

function hubSpotRouter(): Router<HubSpotRoute> {
  const router = new Router<HubSpotRoute>();
  for (const version of API_VERSIONS) {
    for (const objectType of CONTACT_OBJECT_TYPES) {
      const base = objectsBase(version, objectType);
      router.add(batchUpsertRoute(base, version));
      router.add(batchCreateRoute(base, version));
      router.add(searchRoute(base, version));
      for (const r of contactRoutes(base, version)) router.add(r);
      for (const r of mergeArchiveRoutes(base, version)) router.add(r);
    }
    for (const r of propertyRoutes(propertiesBase(version), version)) router.add(r);
    for (const r of listRoutes(version)) router.add(r);
  }
  for (const r of accountRoutes()) router.add(r);
  return router;
}

export async function startHubSpotSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const logger = options.logger;
  const clock = options.clock ?? Date.now;
  const accounts = new AccountStore({
    searchPerSecond: options.searchPerSecond ?? 5,
    tierLimits: options.tierLimits,
    behaviourDefaults: options.accountDefaults,
    clock,
  });
  let snapshot: SnapshotWriter | undefined;
  if (options.snapshotPath) {
    const loaded = loadSnapshot(options.snapshotPath);
    if (loaded) accounts.load(loaded);
    snapshot = new SnapshotWriter(options.snapshotPath, () => accounts.toState(), options.snapshotDebounceMs ?? 1000, logger);
  }
  const state: SimState = {
    accounts,
    faults: new Faults(),
    stats: new Stats(),
    settings: { retryAfter: options.retryAfter ?? false },
    clock,
    markDirty: () => snapshot?.markDirty(),
  };
  const admin = new SimAdmin(state, {
    markDirty: state.markDirty,
    saveSnapshot: () => snapshot?.flush(true) ?? Promise.resolve(),
  });
  const life = new Lifecycle();
  const pipeline = new HubSpotPipeline(state, hubSpotRouter(), life, logger);
  const adminHttp = new AdminHttp(admin, logger);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const correlationId = randomUUID();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = normalisePath(q >= 0 ? url.slice(0, q) : url);
    const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
    const isAdmin = path === '/__sim' || path.startsWith('/__sim/');
    const run = isAdmin ? adminHttp.handle(req, res, path, query, correlationId) : pipeline.handle(req, res, path, query, correlationId);
    run.catch((err: unknown) => {
      logger?.error({ err }, 'hubspot-sim request failed');
      if (!res.headersSent)
        writeJson(res, 500, { status: 'error', message: 'Internal Error', correlationId, category: 'INTERNAL_ERROR' }, {});
      else res.destroy();
    });
  });
  // Outlive client keep-alive timers so a reused socket is not closed under a request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('clientError', (_err, socket) => socket.destroy());

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4010, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      life.close();
      server.closeAllConnections();
      await done;
      await snapshot?.close();
    })();
    return closed;
  };

  return { url: `http://${urlHost}:${port}`, port, admin, close };
}
