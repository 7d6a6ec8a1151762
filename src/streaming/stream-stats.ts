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

/**
 * Last known backlog per destination, refreshed in the background at most once a second. Requests
 * never wait for it; with nothing known yet, updates are accepted — they are durable in Temporal.
 */
export class BacklogGauge {
  /**
   * Per destination: the last backlog read, and updates this process admitted (`admitted`, a running
   * total; `counted`: the total when the last read answered; the rest is added to what it said).
   */
  private readonly known = new Map<string, { at: number; backlog?: Backlog; refreshing: boolean; admitted: number; counted: number }>();

  constructor(
    private readonly client: Client,
    private readonly refreshMs = 1000,
  ) {}

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
    if (!k) this.known.set(destinationId, (k = { at: 0, refreshing: false, admitted: 0, counted: 0 }));
    if (!k.refreshing && Date.now() - k.at >= this.refreshMs) {
      const entry = k;
      entry.refreshing = true;
      readStreamStats(this.client, destinationId, 5000)
        .then(
          (r) => {
            entry.backlog = r
              ? {
                  historyLength: r.historyLength,
                  historyBytes: r.historyBytes,
                  ...(r.stats ? { updates: r.stats.buffered + r.stats.inFlight, bytes: r.stats.bufferedBytes ?? 0 } : {}),
                }
              : { historyLength: 0, historyBytes: 0, updates: 0, bytes: 0 };
            // Admitted from here on are not in this read (those admitted while it ran may be: not counted twice).
            entry.counted = entry.admitted;
          },
          () => {
            entry.backlog = undefined;
          },
        )
        .finally(() => {
          entry.at = Date.now();
          entry.refreshing = false;
        });
    }
    const since = k.admitted - k.counted;
    if (!k.backlog || since === 0 || k.backlog.updates === undefined) return k.backlog;
    return { ...k.backlog, updates: k.backlog.updates + since };
  }
}
