/**
 * Builds the shared services a process needs (stores, secrets, governor, sources) from the config.
 * Embedded default: one SQLite file and an uploads folder under DATA_DIR. With DATABASE_URL, everything
 * shared lives in PostgreSQL so several API and worker hosts see the same state and rate budget.
 */
import type { Config } from '../config';
import { SharedRateGovernor, type RateGovernor } from '../governor/governor';
import { DEFAULT_POLICY, type GovernorPolicy } from '../governor/policy';
import { createSourceReader, type SourceReader } from '../members/source-reader';
import { FileUploadStore, PgUploadStore, type UploadStore } from '../members/upload-store';
import { loadKeyring, type Keyring } from '../secrets/keyring';
import { createSealer, type Sealer } from '../secrets/sealer';
import { loadCodecKeyring } from '../temporal/data-converter';
import { ActivationStore } from '../store/activations';
import { CheckpointStore, type ActivationProgressReader, type RunCheckpoints } from '../store/checkpoints';
import { createPgPool, openDb, type Db } from '../store/db';
import { DestinationStore } from '../store/destinations';
import { SqlPlanStore } from '../store/plans';
import { SqlRejectionStore } from '../store/rejections';
import { RunDefaultsStore } from '../store/run-defaults';
import { migrate } from '../store/schema';
import { createEmailHasher, createMemoryKeyHasher, emailHashKey, type EmailHasher } from '../streaming/email-hash';
import { openContactMemoryDb, SqlContactMemory, type ContactMemory } from '../store/contact-memory';
import { ThreadedContactMemory } from '../store/contact-memory-thread';
import { SqlListIntents, type ListIntents } from '../store/list-intents';
import { StreamHolds } from '../streaming/holds';
import { SqlIngestLog } from '../streaming/ingest-log';
import { StreamMemory } from '../streaming/memory';
import { ConnectionStore } from '../store/connections';
import { SyncStore } from '../store/syncs';
import { createSqlSourceReader, type SqlSourceReader } from '../members/sql-source';

export interface Services {
  db: Db;
  destinations: DestinationStore;
  activations: ActivationStore;
  /** The page activity's resume state (workers only). */
  checkpoints: RunCheckpoints;
  /** Live counts of running activations, for the API (the same rows, read-only). */
  activationProgress: ActivationProgressReader;
  rejections: SqlRejectionStore;
  /** Dry runs' per-member plan lines (sealed). */
  plans: SqlPlanStore;
  /** Per-destination defaults of run options (the rejection guard's bound). */
  runDefaults: RunDefaultsStore;
  uploads: UploadStore;
  sealer: Sealer;
  governor: RateGovernor;
  sourceReader: SourceReader;
  /** Streaming: update time last written per (hashed) email. */
  streamMemory: StreamMemory;
  /** Streaming: signal holds during a stream's continue-as-new. */
  streamHolds: StreamHolds;
  /** Streaming: the durable ingest log of updates (sealed), read by flushes by reference. */
  ingestLog: SqlIngestLog;
  /** Change-driven dataflows: what HubSpot last confirmed per destination and contact (docs/dataflows.md). */
  contactMemory: ContactMemory;
  /** List-encoded audiences: memberships a run's pages decided, written after the upserts. */
  listIntents: ListIntents;
  /** Keyed hashes of emails (the contact memory's and the stream memory's key). */
  emailHasher: EmailHasher;
  /** Source connections of SQL sources (URLs sealed; preconfigured ones from SOURCE_CONNECTIONS). */
  connections: ConnectionStore;
  /** Syncs: activations on a Temporal Schedule. */
  syncs: SyncStore;
  /** Reads SQL sources (pools per connection, closed with the services). */
  sqlSources: SqlSourceReader;
  close(): Promise<void>;
}

export async function createServices(
  config: Config,
  options: {
    createKeys?: boolean;
    governorPolicy?: Partial<GovernorPolicy>;
  } = {},
): Promise<Services> {
  const db = openDb({ databaseUrl: config.storage.databaseUrl, sqlitePath: config.storage.sqlitePath });
  await migrate(db);
  const uploadPool = config.storage.databaseUrl ? createPgPool(config.storage.databaseUrl, 4) : undefined;
  // Uploads (member data) are encrypted at rest with the codec keys, which every API and worker has.
  const codecRing = loadCodecKeyring(config, { createKeys: options.createKeys ?? true });
  const uploads: UploadStore = uploadPool
    ? new PgUploadStore(uploadPool, { keyring: codecRing })
    : new FileUploadStore(config.storage.uploadsDir, { keyring: codecRing });
  const secretsRing = loadKeyring({ file: config.secrets.secretsKeyFile, createIfMissing: options.createKeys ?? true, purpose: 'secrets' });
  const sealer = createSealer(secretsRing);
  const rejections = new SqlRejectionStore(db, sealer);
  const checkpoints = new CheckpointStore(db);
  const emailHasher = createEmailHasher(secretsRing);
  const contactMemory = openContactMemory(config, db, secretsRing);
  const connections = new ConnectionStore(db, sealer, config.sources.connections);
  const sqlSources = createSqlSourceReader({
    resolve: (id) => connections.resolve(id),
    statementTimeoutMs: config.sources.statementTimeoutMs,
  });
  return {
    db,
    destinations: new DestinationStore(db),
    activations: new ActivationStore(db),
    checkpoints,
    activationProgress: checkpoints,
    rejections,
    plans: new SqlPlanStore(db, sealer),
    runDefaults: new RunDefaultsStore(db),
    uploads,
    sealer,
    governor: new SharedRateGovernor(db, { ...DEFAULT_POLICY, ...options.governorPolicy }),
    streamMemory: new StreamMemory(db, emailHasher),
    contactMemory,
    listIntents: new SqlListIntents(db),
    emailHasher,
    streamHolds: new StreamHolds(db),
    ingestLog: new SqlIngestLog(db, sealer),
    connections,
    syncs: new SyncStore(db),
    sqlSources,
    sourceReader: createSourceReader({
      sql: sqlSources,
      uploads,
      rejections,
      allowedSourceDirs: config.storage.sourceDirs,
      maxLineBytes: config.api.maxLineBytes,
    }),
    async close() {
      await contactMemory.close?.();
      await sqlSources.close();
      await db.close();
      await uploadPool?.end();
    },
  };
}

/**
 * The contact memory: on SQLite in a file of its own (its writes never wait for the store's lock), on
 * PostgreSQL in the shared database; behind a worker thread unless CONTACT_MEMORY_THREAD=off. Either way
 * an earlier version's memory in the store is moved in on first use.
 */
function openContactMemory(config: Config, store: Db, ring: Keyring): ContactMemory {
  const { databaseUrl, sqlitePath, memorySqlitePath } = config.storage;
  if (config.worker.contactMemoryThread)
    return new ThreadedContactMemory(
      {
        databaseUrl,
        sqlitePath: memorySqlitePath,
        ...(databaseUrl ? {} : { legacySqlitePath: sqlitePath }),
        hashKey: emailHashKey(ring),
        nice: config.worker.contactMemoryNice,
      },
      createMemoryKeyHasher(ring),
    );
  const own = databaseUrl ? store : openContactMemoryDb({ sqlitePath: memorySqlitePath });
  const memory = new SqlContactMemory(own, createMemoryKeyHasher(ring), { legacyFrom: store });
  return Object.assign(memory, { close: async () => (own === store ? undefined : own.close()) });
}
