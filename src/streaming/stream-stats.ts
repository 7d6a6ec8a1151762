/**
 * Reading a stream's stats from its workflow (query), for the API and its back-pressure. A query needs a
 * live worker: it is bounded by a deadline so the API never hangs when no worker runs.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { recordStreamLag } from '../metrics/service-metrics';
import { streamWorkflowId, type StreamStats } from './types';

export class NoWorkerError extends Error {
  override name = 'NoWorkerError';
}

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as { code?: number })?.code === 5;
}

/** The stream's stats plus its run id; `undefined` when the stream has never started (or was removed). */
export async function readStreamStats(client: Client, destinationId: string, timeoutMs = 5000): Promise<{ stats: StreamStats; runId: string } | undefined> {
  const handle = client.workflow.getHandle(streamWorkflowId(destinationId));
  try {
    const read = await client.withDeadline(Date.now() + timeoutMs, async () => {
      const desc = await handle.describe();
      if (desc.status.name !== 'RUNNING') return undefined;
      return { stats: await handle.query<StreamStats>('streamStats'), runId: desc.runId };
    });
    // The lag gauge (hsd_stream_lag_seconds) follows every read of the stats.
    recordStreamLag(destinationId, read?.stats.oldestBufferedAt ? Date.now() - Date.parse(read.stats.oldestBufferedAt) : 0);
    return read;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    const code = (err as { code?: number })?.code;
    // DEADLINE_EXCEEDED / FAILED_PRECONDITION: the workflow exists but no worker answered.
    if (code === 4 || code === 9 || /deadline|no poller|timed out/i.test((err as Error)?.message ?? '')) {
      throw new NoWorkerError('No worker answered the stream stats query in time. Is a worker running (`npm run worker`)?');
    }
    throw err;
  }
}

/**
 * Last known backlog (buffered + in flight) per destination, refreshed in the background at most once a
 * second. Requests never wait for it: with no worker (or no stats yet) the backlog is unknown and
 * updates are accepted — they are durable in Temporal either way.
 */
export interface Backlog {
  /** Updates buffered or in flight. */
  updates: number;
  /** JSON size of the buffered ones. */
  bytes: number;
}

export class BacklogGauge {
  private readonly known = new Map<string, { at: number; backlog?: Backlog; refreshing: boolean }>();

  constructor(private readonly client: Client, private readonly refreshMs = 1000) {}

  backlog(destinationId: string): Backlog | undefined {
    let k = this.known.get(destinationId);
    if (!k) this.known.set(destinationId, (k = { at: 0, refreshing: false }));
    if (!k.refreshing && Date.now() - k.at >= this.refreshMs) {
      const entry = k;
      entry.refreshing = true;
      readStreamStats(this.client, destinationId, 5000)
        .then((r) => {
          entry.backlog = r ? { updates: r.stats.buffered + r.stats.inFlight, bytes: r.stats.bufferedBytes ?? 0 } : { updates: 0, bytes: 0 };
        }, () => {
          entry.backlog = undefined;
        })
        .finally(() => {
          entry.at = Date.now();
          entry.refreshing = false;
        });
    }
    return k.backlog;
  }
}
