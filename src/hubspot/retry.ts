/**
 * The HubSpot client's retry policy — the only in-process retry of HubSpot calls. A transient fault
 * (5xx, 423/477, reset, timeout) or an unexpected non-DAILY 429 is retried a few times here, so a blip
 * costs one more call instead of an activity attempt that restarts its page from the checkpoint. Final
 * errors and DAILY 429s are thrown at once (the daily reset is hours away: the workflow waits for it).
 * What still fails after the last attempt is Temporal's to retry (activity retry policy, with HubSpot's
 * `Retry-After` as the next delay).
 */
import { HubSpotApiError } from './errors';

export interface RetryPolicy {
  /** Total attempts (≥ 1; 1 = no retry). */
  attempts: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Injectable for tests; rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/** Reads and property calls: small and cheap to repeat. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseBackoffMs: 250, maxBackoffMs: Number.POSITIVE_INFINITY };

/** Batch upserts: 100 contacts' worth of work per call, so more patience before the page is retried. */
export const BATCH_UPSERT_RETRY: RetryPolicy = { attempts: 6, baseBackoffMs: 500, maxBackoffMs: 8000 };

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason ?? new Error('aborted'));
      },
      { once: true },
    );
  });
}

function retries(err: unknown): err is HubSpotApiError {
  return err instanceof HubSpotApiError && err.retryable && err.info.policy !== 'DAILY';
}

/** After a 429 the governor already holds the next call back (plus Retry-After); transient faults back off exponentially, with jitter. */
function backoffMs(err: HubSpotApiError, attempt: number, p: RetryPolicy): number {
  const base = err.kind === 'rate_limit' ? (err.info.retryAfterMs ?? 0) : Math.min(p.maxBackoffMs, p.baseBackoffMs * 2 ** (attempt - 1));
  return base > 0 ? base / 2 + Math.random() * (base / 2) : 0;
}

export async function withRetry<T>(call: () => Promise<T>, p: RetryPolicy): Promise<T> {
  const sleep = p.sleep ?? abortableSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!retries(err) || attempt >= p.attempts) throw err;
      const wait = backoffMs(err, attempt, p);
      if (wait > 0) await sleep(wait, p.signal);
    }
  }
}
