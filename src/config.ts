/**
 * The one configuration object, read from the environment and validated with zod.
 * Every process (API, worker, dev stack, CLI, simulator) reads it through `loadConfig()`; nothing else
 * reads `process.env`. One schema: each variable and its default once; `Config` is inferred from it.
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_API_VERSION, SUPPORTED_API_VERSIONS } from './hubspot-versions';
import { DEFAULT_STREAM_OPTIONS as STREAM } from './streaming/types';
import { DEFAULT_ACTIVATION_OPTIONS as ACTIVATION } from '../workflows/types';

export const HUBSPOT_API_BASE_URL = 'https://api.hubapi.com';

const port = z.coerce.number().int().min(0).max(65535);
const csv = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const EnvSchema = z.object({
  DATA_DIR: z.string().default('data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  // Temporal
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: bool,
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TASK_QUEUE: z.string().default('hubspot-destination'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_UI_URL: z.string().optional(),

  // API
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(3000),
  API_URL: z.string().optional(),
  API_KEYS: csv,
  API_KEY_FILE: z.string().optional(),
  API_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024 * 1024),
  MAX_LINE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),

  // HubSpot
  HUBSPOT_BASE_URL: z.string().url().default(HUBSPOT_API_BASE_URL),
  HUBSPOT_ALLOWED_BASE_URLS: csv,
  // HubSpot API version of every versioned path (a destination's `hubspot.apiVersion` overrides it).
  HUBSPOT_API_VERSION: z.enum(SUPPORTED_API_VERSIONS).default(DEFAULT_API_VERSION),
  HUBSPOT_TOKEN: z.string().optional(),
  HUBSPOT_SIM_PORT: port.default(4010),
  HUBSPOT_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),

  // Directories whose files may be activated by path (`source: {path}`), besides DATA_DIR/sources.
  SOURCE_DIRS: csv,

  // Source connections preconfigured by the operator (SQL sources, docs/syncs.md): a JSON list
  // [{"id": "warehouse", "name": "Warehouse", "url": "postgres://user:password@host:5432/db"}]. Read-only
  // through the API (never returned with their password); the worker connects with them.
  SOURCE_CONNECTIONS: z
    .string()
    .default('[]')
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'SOURCE_CONNECTIONS must be a JSON list of {id, name, url}' });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .array(
          z.strictObject({
            id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'a connection id is letters, digits and _ . -'),
            name: z.string().min(1).max(200),
            url: z.string().regex(/^postgres(ql)?:\/\//, 'a connection url starts with postgres:// or postgresql://'),
          }),
        )
        .refine((l) => new Set(l.map((c) => c.id)).size === l.length, 'SOURCE_CONNECTIONS lists an id twice'),
    ),
  /** How long one page of a SQL source may run (SET LOCAL statement_timeout). */
  SQL_SOURCE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),

  // Storage: embedded SQLite under DATA_DIR unless DATABASE_URL (PostgreSQL) is set for several hosts.
  DATABASE_URL: z.string().optional(),

  // Secrets: sealing key for HubSpot tokens and payload-codec keys (env or key files under DATA_DIR).
  SECRETS_KEY_FILE: z.string().optional(),
  CODEC_KEYS: z.string().optional(),
  CODEC_KEY_FILE: z.string().optional(),
  // The codec server answers the local dev Web UI without an API key (see docs/security.md); true turns that off.
  CODEC_REQUIRE_API_KEY: bool,
  // The codec server answers the loopback dev Web UI (its Origin, from loopback) without an API key only
  // when this is true; `npm start` turns it on for its own dev UI unless set (docs/security.md).
  CODEC_ALLOW_KEYLESS_UI_ORIGIN: bool,

  // Worker tuning
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(50),
  ACTIVATION_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(2000),
  ACTIVATION_UPSERT_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(8),
  ACTIVATION_PAGES_PER_ACTIVITY: z.coerce.number().int().min(1).max(1000).default(50),
  ACTIVATION_ACTIVITY_MAX_MS: z.coerce.number().int().min(100).default(5000),
  ACTIVATION_HEARTBEAT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(ACTIVATION.heartbeatTimeoutMs),
  ACTIVATION_MAX_HISTORY_EVENTS: z.coerce.number().int().min(100).max(40_000).default(ACTIVATION.maxHistoryEvents),
  // The confirmed-state memory (docs/dataflows.md): off sends every member every time and remembers
  // nothing (then `exitMissing` is refused: it needs the memory).
  CONTACT_MEMORY: z.enum(['on', 'off']).default('on'),
  // Where the memory's hashing, fingerprints and database work run: a worker thread of their own (on),
  // off the event loop that drives HubSpot calls, or that event loop itself (off; docs/dataflows.md, "Cost").
  CONTACT_MEMORY_THREAD: z.enum(['on', 'off']).default('on'),
  // The memory thread's scheduling priority (Linux nice, 0–19): its work is read ahead or not waited for,
  // so on a busy machine the event loop sending to HubSpot comes first (docs/dataflows.md, "Cost").
  CONTACT_MEMORY_NICE: z.coerce.number().int().min(0).max(19).default(10),
  METRICS_PORT: port.optional(),
  /** Where the worker's metrics server listens (0.0.0.0 in containers; docs/operations.md). */
  METRICS_HOST: z.string().default('127.0.0.1'),

  // Alerts: webhook hosts a destination may subscribe (exact host or `*.domain`); empty = any host that is
  // not link-local/metadata (docs/operations.md#alerts).
  ALERT_WEBHOOK_ALLOWED_HOSTS: csv,
  // Loopback and private (RFC 1918, ULA, CGNAT) webhook addresses are refused unless this is true.
  ALERT_ALLOW_PRIVATE_URLS: bool,

  // Streaming (POST /v1/destinations/:id/profiles): defaults for each destination's stream workflow. The
  // workflow falls back to the same DEFAULT_STREAM_OPTIONS (it cannot read the environment), so they live there.
  STREAM_MAX_LATENCY_MS: z.coerce.number().int().min(10).max(3_600_000).default(STREAM.maxLatencyMs),
  STREAM_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(STREAM.batchSize),
  STREAM_MAX_CONCURRENT_FLUSHES: z.coerce.number().int().min(1).max(32).default(STREAM.maxConcurrentFlushes),
  STREAM_MAX_HISTORY_EVENTS: z.coerce.number().int().min(100).max(40_000).default(STREAM.maxHistoryEvents),
  STREAM_HEARTBEAT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(STREAM.heartbeatTimeoutMs),
  /** Alert (stream.lag_above_threshold) when a streamed update has waited this long. */
  STREAM_LAG_ALERT_MS: z.coerce.number().int().min(1000).max(86_400_000).default(STREAM.lagAlertMs),
  /** Updates buffered in a stream above which the API answers 429 (bounds workflow state). */
  STREAM_MAX_BUFFERED: z.coerce.number().int().min(100).max(20_000).default(4000),
  STREAM_MAX_BUFFERED_BYTES: z.coerce.number().int().min(100_000).max(3_000_000).default(2_000_000),
  /** Signals in flight per destination from one API process; more requests wait and share the next signal. */
  STREAM_SIGNALS_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(1),
  /** Least milliseconds between two signals of a destination from one API process while requests keep coming (0: none; decision 34). */
  STREAM_SIGNAL_MIN_INTERVAL_MS: z.coerce.number().int().min(0).max(1000).default(20),
  /** A prebuilt workflow bundle (`bundleWorkflowCode` output, as test/helpers/worker-process.ts makes); bundled at start when unset. */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),

  // Alerts: how long one webhook delivery may take.
  ALERT_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),

  // CLI: the API key it sends (else API_KEYS' first, else the key file).
  API_KEY: z.string().optional(),

  // Dev tools (src/dev/temporal-binaries.ts): explicit paths of the Temporal CLI and the test server.
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_TEST_SERVER_PATH: z.string().optional(),
});

type Env = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The environment's flat variables → the nested shape the code uses (paths resolved, derived defaults). */
function toConfig(e: Env) {
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    dataDir,
    logLevel: e.LOG_LEVEL,
    temporal: {
      /** Unset: `npm start` runs a local dev server on `devPort`. */
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS || Boolean(e.TEMPORAL_API_KEY),
      tlsCertPath: e.TEMPORAL_TLS_CERT_PATH,
      tlsKeyPath: e.TEMPORAL_TLS_KEY_PATH,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devPort: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      uiUrl: e.TEMPORAL_UI_URL ?? `http://localhost:${e.TEMPORAL_UI_PORT}`,
    },
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      url: e.API_URL ?? `http://localhost:${e.API_PORT}`,
      keys: e.API_KEYS,
      keyFile: e.API_KEY_FILE ?? path.join(dataDir, 'api-key'),
      maxBodyBytes: e.API_MAX_BODY_BYTES,
      uploadMaxBytes: e.UPLOAD_MAX_BYTES,
      maxLineBytes: e.MAX_LINE_BYTES,
    },
    hubspot: {
      baseUrl: e.HUBSPOT_BASE_URL,
      allowedBaseUrls: e.HUBSPOT_ALLOWED_BASE_URLS,
      apiVersion: e.HUBSPOT_API_VERSION,
      token: e.HUBSPOT_TOKEN,
      simPort: e.HUBSPOT_SIM_PORT,
      requestTimeoutMs: e.HUBSPOT_REQUEST_TIMEOUT_MS,
    },
    storage: {
      databaseUrl: e.DATABASE_URL,
      sqlitePath: path.join(dataDir, 'destination.db'),
      // The contact memory's own file: its writes never wait for the store's write lock (docs/dataflows.md).
      memorySqlitePath: path.join(dataDir, 'contact-memory.db'),
      uploadsDir: path.join(dataDir, 'uploads'),
      sourceDirs: [path.join(dataDir, 'sources'), path.join(dataDir, 'samples'), ...e.SOURCE_DIRS.map((d) => path.resolve(d))],
    },
    sources: {
      connections: e.SOURCE_CONNECTIONS,
      statementTimeoutMs: e.SQL_SOURCE_STATEMENT_TIMEOUT_MS,
    },
    secrets: {
      secretsKeyFile: e.SECRETS_KEY_FILE ?? path.join(dataDir, 'keys', 'secrets.key'),
      codecKeys: e.CODEC_KEYS,
      codecKeyFile: e.CODEC_KEY_FILE ?? path.join(dataDir, 'keys', 'codec-keys.json'),
      codecRequireApiKey: e.CODEC_REQUIRE_API_KEY,
      codecAllowKeylessUiOrigin: e.CODEC_ALLOW_KEYLESS_UI_ORIGIN,
    },
    worker: {
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      pageSize: e.ACTIVATION_PAGE_SIZE,
      upsertConcurrency: e.ACTIVATION_UPSERT_CONCURRENCY,
      pagesPerActivity: e.ACTIVATION_PAGES_PER_ACTIVITY,
      activityMaxMillis: e.ACTIVATION_ACTIVITY_MAX_MS,
      heartbeatTimeoutMs: e.ACTIVATION_HEARTBEAT_TIMEOUT_MS,
      maxHistoryEvents: e.ACTIVATION_MAX_HISTORY_EVENTS,
      contactMemory: e.CONTACT_MEMORY === 'on',
      contactMemoryThread: e.CONTACT_MEMORY_THREAD === 'on',
      contactMemoryNice: e.CONTACT_MEMORY_NICE,
      metricsPort: e.METRICS_PORT,
      metricsHost: e.METRICS_HOST,
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    },
    alerts: {
      allowedHosts: e.ALERT_WEBHOOK_ALLOWED_HOSTS,
      allowPrivateUrls: e.ALERT_ALLOW_PRIVATE_URLS,
      timeoutMs: e.ALERT_WEBHOOK_TIMEOUT_MS,
    },
    stream: {
      maxLatencyMs: e.STREAM_MAX_LATENCY_MS,
      batchSize: e.STREAM_BATCH_SIZE,
      maxConcurrentFlushes: e.STREAM_MAX_CONCURRENT_FLUSHES,
      maxHistoryEvents: e.STREAM_MAX_HISTORY_EVENTS,
      heartbeatTimeoutMs: e.STREAM_HEARTBEAT_TIMEOUT_MS,
      lagAlertMs: e.STREAM_LAG_ALERT_MS,
      maxBuffered: e.STREAM_MAX_BUFFERED,
      maxBufferedBytes: e.STREAM_MAX_BUFFERED_BYTES,
      signalsInFlight: e.STREAM_SIGNALS_IN_FLIGHT,
      signalMinIntervalMs: e.STREAM_SIGNAL_MIN_INTERVAL_MS,
    },
    cli: { apiKey: e.API_KEY },
    devTools: { temporalCliPath: e.TEMPORAL_CLI_PATH, temporalTestServerPath: e.TEMPORAL_TEST_SERVER_PATH },
  };
}

const ConfigSchema = EnvSchema.transform(toConfig);

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}
