/**
 * The stream's buffer of updates not yet sent, keyed by email (pure and deterministic: it lives in the
 * workflow). Rules:
 *  - a newer update (time ≥ the buffered one's) merges into the buffered one: its values and statuses
 *    win, values only the older one has are kept (as if both had been sent in order);
 *  - an older update arriving late is dropped (stale): it never overwrites a newer one;
 *  - an email in a flush now ("busy") is not flushed again until that flush ends, so two in-flight
 *    batches never hold the same email and the per-email store check stays ordered.
 * Updates without a usable email are kept under their own key and never merged.
 */
import type { BufferedUpdate, PendingUpdate } from './types';
import { wireChars } from './wire';

export type AddOutcome = 'added' | 'merged' | 'stale';

export function bufferKey(u: PendingUpdate): string {
  // By reference: the keyed email hash (never the email), in a key space of its own.
  if (u.refs !== undefined) return u.emailProblem || u.key === undefined ? `#L${u.seq}` : `~${u.key}`;
  return u.emailProblem || u.email === undefined ? `#${u.seq}` : u.email;
}

/** `newer` wins value by value; the deadline runs from the earliest receipt. By reference: the log rows to fold, in order. */
export function mergeUpdates(older: PendingUpdate, newer: PendingUpdate): PendingUpdate {
  return {
    ...newer,
    statuses: { ...older.statuses, ...newer.statuses },
    values: { ...older.values, ...newer.values },
    receivedAt: Math.min(older.receivedAt, newer.receivedAt),
    ...(older.refs || newer.refs ? { refs: [...(older.refs ?? []), ...(newer.refs ?? [])] } : {}),
  };
}

export class StreamBuffer {
  /** Ingest-log rows of updates dropped as stale (by reference): to delete with the next flush. */
  readonly dropped: number[] = [];
  private readonly entries = new Map<string, PendingUpdate>();
  private readonly sizes = new Map<string, number>();
  private readonly busy = new Set<string>();
  private busyBuffered = 0;
  private chars = 0;
  /**
   * Cached oldest receipt times (undefined: recompute). The workflow's wake-up conditions read them after
   * every signal, so they must not scan thousands of entries each time: adding or merging can only lower
   * them (kept incrementally); taking, releasing and removing invalidate them.
   */
  private oldestReadyCache: number | undefined | null = null;
  private oldestCache: number | undefined | null = null;

  constructor(carried: PendingUpdate[] = []) {
    for (const u of carried) this.add(u);
  }

  /** Distinct updates waiting (busy or not). */
  get size(): number {
    return this.entries.size;
  }

  /** JSON size of everything waiting (bounds payloads: batches, continue-as-new). */
  get totalChars(): number {
    return this.chars;
  }

  private put(key: string, u: PendingUpdate): void {
    const previous = this.entries.get(key);
    if (previous && u.receivedAt > previous.receivedAt) {
      this.oldestCache = null;
      this.oldestReadyCache = null;
    } else {
      if (this.oldestCache !== null)
        this.oldestCache = this.oldestCache === undefined ? u.receivedAt : Math.min(this.oldestCache, u.receivedAt);
      if (this.oldestReadyCache !== null && !this.busy.has(key))
        this.oldestReadyCache = this.oldestReadyCache === undefined ? u.receivedAt : Math.min(this.oldestReadyCache, u.receivedAt);
    }
    const size = wireChars(u);
    this.chars += size - (this.sizes.get(key) ?? 0);
    this.sizes.set(key, size);
    this.entries.set(key, u);
  }

  private remove(key: string): void {
    this.oldestCache = null;
    this.oldestReadyCache = null;
    this.chars -= this.sizes.get(key) ?? 0;
    this.sizes.delete(key);
    this.entries.delete(key);
  }

  /** Waiting updates whose email is not in a flush now. */
  get readyCount(): number {
    return this.entries.size - this.busyBuffered;
  }

  add(u: PendingUpdate): AddOutcome {
    const key = bufferKey(u);
    const current = this.entries.get(key);
    if (!current) {
      this.put(key, u);
      if (this.busy.has(key)) this.busyBuffered++;
      return 'added';
    }
    if (u.updatedAt < current.updatedAt) {
      // Late and older: the newer one stays; keep the earlier deadline all the same.
      if (u.refs) this.dropped.push(...u.refs);
      if (u.receivedAt < current.receivedAt) this.put(key, { ...current, receivedAt: u.receivedAt });
      return 'stale';
    }
    this.put(key, mergeUpdates(current, u));
    return 'merged';
  }

  /** Receipt time of the oldest ready update. */
  oldestReadyAt(): number | undefined {
    if (this.oldestReadyCache !== null) return this.oldestReadyCache;
    let oldest: number | undefined;
    for (const [key, u] of this.entries) {
      if (this.busy.has(key)) continue;
      if (oldest === undefined || u.receivedAt < oldest) oldest = u.receivedAt;
    }
    this.oldestReadyCache = oldest;
    return oldest;
  }

  /** Receipt time of the oldest waiting update (busy or not), for the lag. */
  oldestAt(): number | undefined {
    if (this.oldestCache !== null) return this.oldestCache;
    let oldest: number | undefined;
    for (const u of this.entries.values()) if (oldest === undefined || u.receivedAt < oldest) oldest = u.receivedAt;
    this.oldestCache = oldest;
    return oldest;
  }

  /**
   * Removes up to `max` ready updates, oldest first, within `maxChars` of JSON (always at least one), and
   * marks their emails busy.
   */
  take(max: number, maxChars = Infinity): PendingUpdate[] {
    const ready: Array<[string, PendingUpdate]> = [];
    for (const [key, u] of this.entries) if (!this.busy.has(key)) ready.push([key, u]);
    ready.sort(([, a], [, b]) => a.receivedAt - b.receivedAt || a.seq - b.seq);
    const batch: PendingUpdate[] = [];
    let chars = 0;
    for (const [key, u] of ready) {
      const size = this.sizes.get(key) ?? 0;
      if (batch.length >= max || (batch.length > 0 && chars + size > maxChars)) break;
      chars += size;
      batch.push(u);
      this.remove(key);
      this.busy.add(key);
    }
    return batch;
  }

  /** A flush ended: its emails may be flushed again. */
  release(batch: PendingUpdate[]): void {
    this.oldestReadyCache = null;
    for (const u of batch) {
      const key = bufferKey(u);
      if (!this.busy.delete(key)) continue;
      if (this.entries.has(key)) this.busyBuffered--;
    }
  }

  /**
   * Puts a batch that was not sent back (cancelled, or the stream paused on a configuration error),
   * applying the same rules against updates that arrived meanwhile. Call after `release`.
   */
  restore(batch: PendingUpdate[]): { merged: number; stale: number } {
    let merged = 0;
    let stale = 0;
    for (const u of batch) {
      const key = bufferKey(u);
      const later = this.entries.get(key);
      if (!later) {
        this.add(u);
      } else if (u.updatedAt <= later.updatedAt) {
        // Received first and not newer: fold it under the later update, as if both had been sent in order.
        this.put(key, mergeUpdates(u, later));
        merged++;
      } else {
        // The update that arrived meanwhile is older than this one: it is the late one.
        if (later.refs) this.dropped.push(...later.refs);
        this.put(key, { ...u, receivedAt: Math.min(u.receivedAt, later.receivedAt) });
        stale++;
      }
    }
    return { merged, stale };
  }

  /** The smallest ingest-log number any waiting update (or a stale one not yet deleted) refers to. */
  minRef(): number | undefined {
    let min: number | undefined;
    for (const u of this.entries.values()) for (const r of u.refs ?? []) if (min === undefined || r < min) min = r;
    for (const r of this.dropped) if (min === undefined || r < min) min = r;
    return min;
  }

  /** Everything waiting, in insertion order (carried across continue-as-new). */
  snapshot(): PendingUpdate[] {
    return [...this.entries.values()];
  }
}

/** Splits carried updates into arrays of at most `maxChars` of JSON each (one payload per array). */
export function chunkForCarry(updates: BufferedUpdate[], maxChars = 200_000): BufferedUpdate[][] {
  const chunks: BufferedUpdate[][] = [];
  let current: BufferedUpdate[] = [];
  let size = 0;
  for (const u of updates) {
    const n = JSON.stringify(u).length + 1;
    if (current.length > 0 && size + n > maxChars) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(u);
    size += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
