/**
 * Messages of the streaming path (API → `destinationStream` workflow → flush activities). Updates are
 * contact data: they travel in signals and activity inputs, which the payload codec encrypts. They are
 * reduced at the API to what a flush needs, so signals, workflow state and history stay small.
 */

/** Email problem found at receipt; such an update becomes a stored rejection at its flush. */
export type EmailProblem = 'MISSING_EMAIL' | 'INVALID_EMAIL';

/** Largest reduced update accepted (JSON characters): mapped values and memberships of one profile. */
export const MAX_UPDATE_CHARS = 65_536;
/** Budget of one payload carrying updates (a signal, a flush batch, a continue-as-new chunk): under Temporal's 256 KB warning. */
export const MAX_PAYLOAD_CHARS = 200_000;

/**
 * One profile update, reduced at the API, in its compact wire form (single-letter keys: thousands of
 * these travel through signals and history). Workflow code decodes it to `ProfileUpdate` on receipt
 * (src/streaming/wire.ts) and uses the named fields.
 */
export interface StreamUpdate {
  /** Primary email, normalised (trimmed, lowercased); absent when the profile has none. */
  e?: string;
  /** Update time, epoch ms: the profile's `timestamp`, else its latest `lastQualificationTime`, else receipt. */
  t: number;
  /** Raw status per audience id found in `segmentMembership` (null: entry without a status = realized). */
  s: Record<string, string | null>;
  /** Values of the destination's mapped source paths present in the profile, by path. */
  v: Record<string, unknown>;
  /** Set when the email is missing or invalid: never merged, rejected at flush. */
  x?: EmailProblem;
}

/**
 * A buffered update in wire form, as flush activities receive it and continue-as-new carries it:
 * numbered on receipt (`n`, also its rejection key) and timed (`r`).
 */
export interface BufferedUpdate extends StreamUpdate {
  /** Receipt sequence number, unique within the stream (carried across continue-as-new). */
  n: number;
  /** Receipt time (epoch ms) of the earliest update merged into this one: the flush deadline runs from it. */
  r: number;
  /** By reference (ingest log): the keyed email hash (the buffer key) — `e`, `s`, `v` are then empty. */
  k?: string;
  /** By reference: the ingest-log numbers merged into this entry, oldest first (the flush folds them in this order). */
  q?: number[];
}

/** A profile update with named fields: what the stream workflow works with. */
export interface ProfileUpdate {
  email?: string;
  /** Epoch ms; a later update of the same email wins. */
  updatedAt: number;
  /** Raw status per audience id (null: realized). */
  statuses: Record<string, string | null>;
  /** Mapped source values by path. */
  values: Record<string, unknown>;
  emailProblem?: EmailProblem;
  /** By reference (src/streaming/ingest-log.ts): the keyed email hash; email, statuses and values stay in the log. */
  key?: string;
  /** By reference: the ingest-log numbers merged into this entry, in merge order. */
  refs?: number[];
}

/** A profile update waiting in the stream's buffer (or in a flush). */
export interface PendingUpdate extends ProfileUpdate {
  /** Receipt sequence number, unique within the stream: its rejection key. */
  seq: number;
  /** Receipt time (epoch ms) of the earliest update merged into this one: the flush deadline runs from it. */
  receivedAt: number;
}

/**
 * A reference to an update in the ingest log: [ingest-log number − `n`, keyed email hash ('' when the
 * email is missing or invalid), update time − `at`, email problem?]. The `profiles` signal packs them in
 * one string (`src/streaming/wire.ts`: `dn:key:dt[:M|I]`, comma-separated), the most compact JSON form.
 */
export type UpdateRef = [number, string, number] | [number, string, number, EmailProblem];

/** Payload of the `profiles` signal. */
export interface ProfilesSignal {
  /** When the API received the oldest update in this signal (epoch ms). */
  at: number;
  /** Updates by value (streams before the ingest log; still accepted). */
  updates?: StreamUpdate[];
  /** Base of the ingest-log numbers of `refs`. */
  n?: number;
  /** Updates by reference (the ingest log holds them): packed string (or, decoded the same, an array of refs). */
  refs?: string | UpdateRef[];
}

/** Per-destination stream tuning; defaults come from the API's config when it starts the stream. */
export interface StreamOptions {
  /** Flush when the oldest buffered update is this old (ms). */
  maxLatencyMs: number;
  /** Contacts per HubSpot call (≤ 100). */
  batchSize: number;
  /** Flush activities in flight at once. */
  maxConcurrentFlushes: number;
  /** Continue-as-new at this many history events (or earlier when Temporal suggests it). */
  maxHistoryEvents: number;
  /** A dead worker's flush is retried elsewhere after this long without heartbeat. */
  heartbeatTimeoutMs: number;
  /** Before continue-as-new, wait this long for in-flight flushes; then cancel them (their updates are carried). */
  drainTimeoutMs: number;
  /** Emit `stream.lag_above_threshold` when an update has waited this long (not while paused by an operator). */
  lagAlertMs: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  maxLatencyMs: 1000,
  batchSize: 100,
  maxConcurrentFlushes: 4,
  maxHistoryEvents: 10_000,
  heartbeatTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  lagAlertMs: 60_000,
};

/** Outcome counts of flushes. Numbers and reason codes only. */
export interface FlushCounts {
  /** Upserted in HubSpot. */
  sent: number;
  created: number;
  updated: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  /** Updates naming no audience activated on the destination. */
  ignored: number;
  ignoredByReason: Record<string, number>;
  /** Dropped because a newer update of the same email was already written. */
  stale: number;
  /** Not sent: HubSpot already holds exactly these values (the confirmed-state memory, docs/dataflows.md). */
  unchanged: number;
  /** Audience statuses dropped because their audience is not activated on the destination. */
  ignoredStatuses: number;
}

/** Stream-wide counters, carried across continue-as-new. */
export interface StreamCounters extends FlushCounts {
  received: number;
  /** Updates folded into a newer buffered update of the same email. */
  merged: number;
  /** Flush activities completed. */
  flushes: number;
}

export interface StreamCarry {
  counters: StreamCounters;
  paused: boolean;
  pausedReason?: string;
  /** Paused by an operator (no lag alerts) or by a configuration error (lag alerts go out). */
  pausedBy?: 'operator' | 'error';
  /** Lag alerts emitted so far (their keys must stay unique across runs). */
  lagAlerts?: number;
  lagAlerted?: boolean;
  nextSeq: number;
  runsSoFar: number;
  startedAt: string;
  lastFlushAt?: string;
  /** The previous run held the API's signals for the handoff; this run lifts the hold. */
  held?: boolean;
  /** Ingest-log rows accounted but not yet deleted (the next flush deletes them). */
  remove?: number[];
}

export interface StreamInput {
  destinationId: string;
  options?: Partial<StreamOptions>;
  carry?: StreamCarry;
}

export type StreamState = 'running' | 'paused' | 'draining';

/** Answer of the `streamStats` query. `lagMs` is computed by the caller from `oldestBufferedAt`. */
export interface StreamStats extends StreamCounters {
  destinationId: string;
  state: StreamState;
  pausedReason?: string;
  /** Updates waiting in the buffer (distinct emails). */
  buffered: number;
  /** Their size as JSON (what continue-as-new has to carry). */
  bufferedBytes: number;
  /** Updates in flush activities now. */
  inFlight: number;
  flushesInFlight: number;
  /** Receipt time of the oldest update not yet sent (ISO), if any. */
  oldestBufferedAt?: string;
  lastFlushAt?: string;
  options: StreamOptions;
  runs: number;
  historyLength: number;
  startedAt: string;
}

export interface FlushStreamInput {
  destinationId: string;
  /** Prefix of rejection keys, unique per stream chain. */
  keyPrefix: string;
  /** Updates by value (streams before the ingest log). */
  updates: BufferedUpdate[];
  /** Updates by reference: per buffered entry, its ingest-log numbers in merge order. */
  refs?: number[][];
  /** The same, packed (what the workflow sends): entries comma-separated, numbers − `refsFrom` joined by `+`. */
  refsPacked?: string;
  refsFrom?: number;
  /** Ingest-log rows already accounted (earlier flushes, stale updates): deleted by this flush. */
  done?: number[];
  /** The same as inclusive ranges [first, last] (what the workflow sends: accounted rows are mostly consecutive). */
  doneRanges?: Array<[number, number]>;
  /** Orphan rows to delete (a request that crashed between its log write and its signal): see OrphanSweep. */
  sweep?: OrphanSweep;
}

/**
 * Rows of the destination numbered below `below` (the smallest log number the stream still refers to)
 * and written before `before` (ms): nothing refers to them and nothing will (src/streaming/orphans.ts).
 */
export interface OrphanSweep {
  below: number;
  before: number;
}

export interface RejectStreamInput extends FlushStreamInput {
  reason: { code: string; message: string };
}

export function emptyFlushCounts(): FlushCounts {
  return {
    sent: 0,
    created: 0,
    updated: 0,
    rejected: 0,
    rejectedByReason: {},
    ignored: 0,
    ignoredByReason: {},
    stale: 0,
    unchanged: 0,
    ignoredStatuses: 0,
  };
}

export function emptyStreamCounters(): StreamCounters {
  return { ...emptyFlushCounts(), received: 0, merged: 0, flushes: 0 };
}

function addReasons(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export function addFlushCounts<T extends FlushCounts>(a: T, b: FlushCounts): T {
  return {
    ...a,
    sent: a.sent + b.sent,
    created: a.created + b.created,
    updated: a.updated + b.updated,
    rejected: a.rejected + b.rejected,
    rejectedByReason: addReasons(a.rejectedByReason, b.rejectedByReason),
    ignored: a.ignored + b.ignored,
    ignoredByReason: addReasons(a.ignoredByReason, b.ignoredByReason),
    stale: a.stale + b.stale,
    unchanged: a.unchanged + b.unchanged,
    ignoredStatuses: a.ignoredStatuses + b.ignoredStatuses,
  };
}

/** One stream workflow per destination. */
export const streamWorkflowId = (destinationId: string): string => `stream-${destinationId}`;

/** Rejections of streamed updates are stored under this id (one list per destination). */
export const streamRejectionsId = (destinationId: string): string => `stream-${destinationId}`;

const BOUNDS: Record<keyof StreamOptions, [number, number]> = {
  maxLatencyMs: [10, 3_600_000],
  batchSize: [1, 100],
  maxConcurrentFlushes: [1, 32],
  maxHistoryEvents: [100, 40_000],
  heartbeatTimeoutMs: [1000, 600_000],
  drainTimeoutMs: [1000, 3_600_000],
  lagAlertMs: [1000, 86_400_000],
};

/** Options with defaults filled in and every value clamped to its bounds. */
export function resolveStreamOptions(base: StreamOptions, change: Partial<StreamOptions> = {}): StreamOptions {
  const out = { ...base };
  for (const key of Object.keys(BOUNDS) as Array<keyof StreamOptions>) {
    const v = change[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const [min, max] = BOUNDS[key];
    out[key] = Math.min(max, Math.max(min, Math.round(v)));
  }
  return out;
}
