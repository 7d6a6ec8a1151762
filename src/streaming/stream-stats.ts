/**
 * Reading a stream's state for the API and its back-pressure: the run's history size from Temporal
 * (no worker needed) and the stats from the workflow (a query: needs a live worker, bounded by a
 * deadline so the API never hangs when no worker runs).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { streamStatsQuery } from '../../workflows/messages';
import { recordStreamLag } from '../metrics/service-metrics';
import { streamWorkflowId, type StreamStats } from './types';

export class NoWorkerError extends Error {
  override name = 'NoWorkerError';
}

export interface StreamRead {
  runId: string;
  historyLength: number;
  historyBytes: number;
  /** Undefined when no worker answered the query in time. */
  stats?: StreamStats;
}

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as { code?: number })?.code === 5;
}

/** `undefined` when the stream has never started (or is not running). */
export async function readStreamStats(client: Client, destinationId: string, timeoutMs = 5000): Promise<StreamRead | undefined> {
  const handle = client.workflow.getHandle(streamWorkflowId(destinationId));
  const deadline = Date.now() + timeoutMs;
  let desc;
  try {
    desc = await client.withDeadline(deadline, () => handle.describe());
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  if (desc.status.name !== 'RUNNING') return undefined;
  const read: StreamRead = { runId: desc.runId, historyLength: desc.historyLength, historyBytes: desc.historySize ?? 0 };
  try {
    read.stats = await client.withDeadline(deadline, () => handle.query(streamStatsQuery));
    // The lag gauge (hsd_stream_lag_seconds) follows every read of the stats.
    recordStreamLag(destinationId, read.stats.oldestBufferedAt ? Date.now() - Date.parse(read.stats.oldestBufferedAt) : 0);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    // Otherwise (deadline, no poller): the workflow exists but no worker answered; history still tells.
  }
  return read;
}

export interface Backlog {
  /** Updates buffered or in flight (unknown without a worker). */
  updates?: number;
  /** JSON size of the buffered ones (unknown without a worker). */
  bytes?: number;
  /** Size of the stream's current run: grows without bound while no worker processes it. */
  historyLength: number;
  historyBytes: number;
}

/** Reads a stream's state (`readStreamStats`; replaced in tests). */
export type StreamReader = (destinationId: string, timeoutMs: number) => Promise<StreamRead | undefined>;

/** Updates a read shows as done: everything received that is neither buffered nor in a flush. */
function processedOf(r: StreamRead): number | undefined {
  return r.stats ? r.stats.received - r.stats.buffered - r.stats.inFlight : undefined;
}

interface Known {
  /** When the last read answered (-Infinity: never). */
  at: number;
  backlog?: Backlog;
  refreshing: boolean;
  /** Updates this process admitted: a running total, and the total when the last read answered. */
  admitted: number;
  counted: number;
  /** Updates the stream had processed at the last read, and its pace since the read before (per ms). */
  processed?: number;
  drainPerMs: number;
}

/**
 * Last known backlog per destination, refreshed in the background at most once a second. Requests
 * never wait for it; with nothing known yet, updates are accepted — they are durable in Temporal.
 *
 * Between two reads the estimate is the last read, plus what this process admitted since, minus what the
 * stream is expected to have sent since at the pace measured between the last two reads (never more
 * than the read held). Without the drain, a read taken at a busy moment (a stream's first second, a
 * handoff) counted a whole second of admissions on top of it: at 2,000 updates/s a read of 2,000 refused
 * every request for up to a second while the real backlog stayed under 1,500 (issue 15).
 */
export class BacklogGauge {
  /** Per destination. */
  private readonly known = new Map<string, Known>();
  private readonly read: StreamReader;

  constructor(
    client: Client | StreamReader,
    private readonly refreshMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.read = typeof client === 'function' ? client : (destinationId, timeoutMs) => readStreamStats(client, destinationId, timeoutMs);
  }

  /**
   * Updates this process admitted for the destination: added to its backlog until the next stats read
   * answers (without it, a burst of large requests overshot the
   * bound threefold within the second between two reads: issue 15's burst carried 13,000 updates).
   */
  admit(destinationId: string, updates: number): void {
    const k = this.known.get(destinationId);
    if (k) k.admitted += updates;
  }

  /**
   * Like `backlog`, but only for a destination already followed (one a request was admitted for): an
   * unknown id answers undefined and starts no read. A followed one is refreshed as `backlog` does, so a
   * stream refused here is read again and admitted once it has room.
   */
  peek(destinationId: string): Backlog | undefined {
    return this.known.has(destinationId) ? this.backlog(destinationId) : undefined;
  }

  backlog(destinationId: string): Backlog | undefined {
    let k = this.known.get(destinationId);
    if (!k) this.known.set(destinationId, (k = { at: -Infinity, refreshing: false, admitted: 0, counted: 0, drainPerMs: 0 }));
    if (!k.refreshing && this.now() - k.at >= this.refreshMs) this.refresh(destinationId, k);
    const b = k.backlog;
    if (!b || b.updates === undefined) return b;
    const since = k.admitted - k.counted;
    const drained = Math.min(b.updates, Math.floor(k.drainPerMs * (this.now() - k.at)));
    if (since === 0 && drained === 0) return b;
    return { ...b, updates: Math.max(0, b.updates + since - drained) };
  }

  private refresh(destinationId: string, k: Known): void {
    k.refreshing = true;
    this.read(destinationId, 5000)
      .then(
        (r) => {
          const at = this.now();
          const processed = r ? processedOf(r) : undefined;
          // A pace needs two reads of the same chain of runs (counters carry across continue-as-new; a
          // stream started afresh counts from 0 again, and a read without stats tells nothing).
          k.drainPerMs =
            processed !== undefined && k.processed !== undefined && processed >= k.processed && at > k.at
              ? (processed - k.processed) / (at - k.at)
              : 0;
          k.processed = processed;
          k.backlog = r
            ? {
                historyLength: r.historyLength,
                historyBytes: r.historyBytes,
                ...(r.stats ? { updates: r.stats.buffered + r.stats.inFlight, bytes: r.stats.bufferedBytes ?? 0 } : {}),
              }
            : { historyLength: 0, historyBytes: 0, updates: 0, bytes: 0 };
          // Admitted from here on are not in this read (those admitted while it ran may be: not counted twice).
          k.counted = k.admitted;
        },
        () => {
          k.backlog = undefined;
          k.processed = undefined;
          k.drainPerMs = 0;
        },
      )
      .finally(() => {
        k.at = this.now();
        k.refreshing = false;
      });
  }
}
