/**
 * Everything the `destinationStream` workflow knows, and every rule for changing it: the buffer, the
 * counters, pause state, flushes in flight, the lag alert and what continue-as-new carries. Pure and
 * deterministic (time comes in as `now`), so it is unit-tested without Temporal; the workflow only
 * wires it to signals, activities and timers.
 */
import { chunkForCarry, StreamBuffer } from '../src/streaming/buffer';
import {
  addFlushCounts,
  DEFAULT_STREAM_OPTIONS,
  emptyStreamCounters,
  MAX_PAYLOAD_CHARS,
  resolveStreamOptions,
  type BufferedUpdate,
  type FlushCounts,
  type PendingUpdate,
  type ProfilesSignal,
  type StreamCounters,
  type StreamInput,
  type StreamOptions,
  type StreamStats,
  type OrphanSweep,
} from '../src/streaming/types';
import { ORPHAN_AGE_MS, ORPHAN_SWEEP_EVERY_MS } from '../src/streaming/orphans';
import { fromWire, packCarry, readWireRefs, readWireUpdate, toWire, unpackCarry } from '../src/streaming/wire';

/** Ingest-log rows one flush deletes at most (the rest wait for the next one). */
const MAX_DONE_PER_FLUSH = 5000;

/** A flush activity under way: its batch size, the receipt time of its oldest update (for the lag), its smallest log number. */
interface Flight {
  size: number;
  oldest: number;
  minRef?: number;
}

/** A lag alert that is due: what `stream.lag_above_threshold` reports. */
export interface LagAlert {
  /** Idempotency key of the alert, unique across runs of the stream. */
  key: string;
  lagMs: number;
  thresholdMs: number;
  buffered: number;
  paused: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export class StreamState {
  readonly destinationId: string;
  options: StreamOptions;
  counters: StreamCounters;
  paused: boolean;
  pausedReason?: string;
  /** An operator's pause is deliberate (no lag alerts); a configuration error's is not. */
  pausedBy?: 'operator' | 'error';
  /** A cancel was requested of this run (Temporal CLI, Web UI): it was turned into a pause. */
  cancelRequested = false;
  /** Set once the run hands over to the next one: no new flushes. */
  draining = false;
  /**
   * Start a flush at once, whatever is ready, when no flush is in flight (a lone update does not wait for
   * the latency bound); set by the workflow behind a patch, so older histories replay unchanged.
   */
  flushWhenIdle = false;
  /** Continue as new also at this many bytes of history (set by the workflow behind a patch; Infinity: not). */
  maxRunHistoryBytes = Infinity;
  /** Bumped by every event the main loop must react to (pause, resume, options, a flush ending). */
  wakeups = 0;
  readonly startedAt: string;
  readonly runs: number;
  private readonly buffer: StreamBuffer;
  private readonly flights = new Map<number, Flight>();
  private flightSeq = 0;
  private inFlight = 0;
  private nextSeq: number;
  private lastFlushAt?: string;
  private lagAlerts: number;
  private lagAlerted: boolean;
  /** Ingest-log rows whose updates are accounted (sent, rejected, ignored, stale): the next flush deletes them. */
  private readonly accounted: number[];
  /** When a flush last carried an orphan sweep (docs/streaming.md, "Orphan rows"); the first flush of a run does. */
  private lastSweepAt = -Infinity;

  constructor(input: StreamInput, carried: Array<BufferedUpdate[] | string>, now: number) {
    const { carry } = input;
    this.destinationId = input.destinationId;
    this.options = resolveStreamOptions(DEFAULT_STREAM_OPTIONS, input.options);
    // Counters carried from a run of an older version may lack newer fields: they start at zero.
    this.counters = { ...emptyStreamCounters(), ...carry?.counters };
    this.paused = carry?.paused ?? false;
    this.pausedReason = carry?.pausedReason;
    this.pausedBy = carry?.pausedBy ?? (this.paused ? 'operator' : undefined);
    this.lagAlerts = carry?.lagAlerts ?? 0;
    this.lagAlerted = carry?.lagAlerted ?? false;
    this.nextSeq = carry?.nextSeq ?? 1;
    this.lastFlushAt = carry?.lastFlushAt;
    this.startedAt = carry?.startedAt ?? new Date(now).toISOString();
    this.runs = (carry?.runsSoFar ?? 0) + 1;
    this.buffer = new StreamBuffer(carried.flatMap((c) => (typeof c === 'string' ? unpackCarry(c) : c.map(fromWire))));
    this.accounted = [...(carry?.remove ?? [])];
  }

  /** The `profiles` signal: decode, number and buffer each update; malformed ones are counted, not kept. */
  receive(signal: Partial<ProfilesSignal> | null | undefined, now: number): void {
    const updates: unknown[] = Array.isArray(signal?.updates) ? signal.updates : [];
    const receivedAt = Math.min(typeof signal?.at === 'number' ? signal.at : now, now);
    if (signal && (typeof signal.refs === 'string' || Array.isArray(signal.refs)))
      this.receiveRefs(readWireRefs({ ...signal, at: signal.at ?? NaN }, receivedAt));
    for (const item of updates) {
      this.counters.received++;
      const update = readWireUpdate(item);
      if (!update) {
        const reasons = this.counters.ignoredByReason;
        this.counters.ignored++;
        this.counters.ignoredByReason = { ...reasons, MALFORMED_UPDATE: (reasons.MALFORMED_UPDATE ?? 0) + 1 };
        continue;
      }
      const outcome = this.buffer.add({ ...update, seq: this.nextSeq++, receivedAt });
      if (outcome === 'merged') this.counters.merged++;
      else if (outcome === 'stale') this.counters.stale++;
    }
  }

  /** Updates by reference (the ingest log holds their data): the same rules, keyed by the email's hash. */
  private receiveRefs(refs: Array<PendingUpdate | undefined>): void {
    for (const update of refs) {
      this.counters.received++;
      if (!update || !Number.isFinite(update.updatedAt)) {
        const reasons = this.counters.ignoredByReason;
        this.counters.ignored++;
        this.counters.ignoredByReason = { ...reasons, MALFORMED_UPDATE: (reasons.MALFORMED_UPDATE ?? 0) + 1 };
        continue;
      }
      const outcome = this.buffer.add(update);
      if (outcome === 'merged') this.counters.merged++;
      else if (outcome === 'stale') this.counters.stale++;
    }
  }

  pauseByOperator(reason?: string): void {
    this.paused = true;
    this.pausedReason = reason ?? 'Paused by an operator';
    this.pausedBy = 'operator';
    this.wakeups++;
  }

  /** A configuration error (token, scopes, mapping): updates are kept until an operator resumes. */
  pauseOnError(reason: string): void {
    this.paused = true;
    this.pausedReason = reason;
    this.pausedBy = 'error';
  }

  /**
   * A cancel request from anywhere (Temporal CLI, Web UI's Cancel button, an API client) never kills the
   * stream: it pauses it with the updates kept, like a configuration error (lag alerts still fire, since
   * nobody may have meant to stop it), until an operator resumes it.
   */
  pauseOnCancel(): void {
    this.cancelRequested = true;
    this.paused = true;
    this.pausedReason =
      `A cancel was requested (Temporal CLI or Web UI); the stream is never cancelled, it is paused with its updates kept. ` +
      `Resume it with POST /v1/destinations/${this.destinationId}/stream/resume (CLI: hubspot-destination stream resume ${this.destinationId})`;
    this.pausedBy = 'error';
    this.wakeups++;
  }

  resume(): void {
    this.paused = false;
    this.pausedReason = undefined;
    this.pausedBy = undefined;
    this.wakeups++;
  }

  configure(change: Partial<StreamOptions>): void {
    this.options = resolveStreamOptions(this.options, change);
    this.wakeups++;
  }

  get flightCount(): number {
    return this.flights.size;
  }

  /** When the oldest ready update reaches the latency bound (Infinity: nothing due, or paused). */
  dueAt(): number {
    if (this.paused) return Infinity;
    const oldest = this.buffer.oldestReadyAt();
    return oldest === undefined ? Infinity : oldest + this.options.maxLatencyMs;
  }

  /** The next flush deadline, only if a slot is free (a flush ending wakes the loop anyway). */
  nextFlushAt(): number {
    return this.flights.size < this.options.maxConcurrentFlushes ? this.dueAt() : Infinity;
  }

  /** A flush may start now: a free slot and a full batch, or an update at its latency bound. */
  canFlush(now: number): boolean {
    const ready = this.buffer.readyCount;
    return (
      !this.paused &&
      !this.draining &&
      this.flights.size < this.options.maxConcurrentFlushes &&
      ready > 0 &&
      (ready >= this.options.batchSize || this.dueAt() <= now || (this.flushWhenIdle && this.flights.size === 0))
    );
  }

  /**
   * Takes the next batch out of the buffer and counts it in flight until `endFlush`; with it, ingest-log
   * rows already accounted, for the flush to delete (`done`).
   */
  startFlush(now = Date.now()): { id: number; batch: PendingUpdate[]; done: number[]; sweep?: OrphanSweep } {
    const batch = this.buffer.take(this.options.batchSize, MAX_PAYLOAD_CHARS);
    const id = ++this.flightSeq;
    let minRef: number | undefined;
    for (const u of batch) for (const r of u.refs ?? []) if (minRef === undefined || r < minRef) minRef = r;
    this.flights.set(id, {
      size: batch.length,
      oldest: Math.min(...batch.map((u) => u.receivedAt)),
      ...(minRef !== undefined ? { minRef } : {}),
    });
    this.inFlight += batch.length;
    this.accounted.push(...this.buffer.dropped.splice(0));
    const sweep = this.orphanSweep(now);
    return { id, batch, done: this.accounted.splice(0, MAX_DONE_PER_FLUSH), ...(sweep ? { sweep } : {}) };
  }

  /**
   * At most once per ORPHAN_SWEEP_EVERY_MS: which rows the flush may delete as orphans — below the smallest
   * log number this stream still refers to (buffered, in flight, accounted but not deleted) and written
   * more than ORPHAN_AGE_MS before now. Rows are numbered in write order and reach the stream within
   * MAX_SIGNAL_DELAY_MS of their write (or their request got no 202), so such a row is one nothing will
   * ever refer to. Call after the batch is counted in flight and `accounted` holds what it deletes.
   */
  private orphanSweep(now: number): OrphanSweep | undefined {
    if (now - this.lastSweepAt < ORPHAN_SWEEP_EVERY_MS) return undefined;
    this.lastSweepAt = now;
    let below = this.buffer.minRef() ?? Number.MAX_SAFE_INTEGER;
    for (const f of this.flights.values()) if (f.minRef !== undefined && f.minRef < below) below = f.minRef;
    for (const r of this.accounted) if (r < below) below = r;
    return { below, before: now - ORPHAN_AGE_MS };
  }

  endFlush(id: number): void {
    this.flights.delete(id);
    this.wakeups++;
  }

  /** The batch was sent (or stored as rejected): count it. */
  settle(batch: PendingUpdate[], counts: FlushCounts, now: number): void {
    this.buffer.release(batch);
    this.inFlight -= batch.length;
    this.counters = addFlushCounts(this.counters, counts);
    this.counters.flushes++;
    this.lastFlushAt = new Date(now).toISOString();
    for (const u of batch) if (u.refs) this.accounted.push(...u.refs);
  }

  /** Rows a flush was to delete and did not (cancelled, or paused): the next flush deletes them. */
  notDeleted(done: number[]): void {
    this.accounted.push(...done);
  }

  /** A batch that was not sent goes back to the buffer, under the same merge rules. */
  giveBack(batch: PendingUpdate[]): void {
    this.buffer.release(batch);
    this.inFlight -= batch.length;
    const { merged, stale } = this.buffer.restore(batch);
    this.counters.merged += merged;
    this.counters.stale += stale;
  }

  /** Receipt time of the oldest update not yet sent, buffered or in flight. */
  oldestPending(): number | undefined {
    let oldest = this.buffer.oldestAt();
    for (const f of this.flights.values()) if (oldest === undefined || f.oldest < oldest) oldest = f.oldest;
    return oldest;
  }

  /**
   * When the lag alert fires (Infinity: not armed): once each time the oldest unsent update crosses
   * `lagAlertMs`; never while an operator's pause holds the updates on purpose.
   */
  lagAlertAt(): number {
    const oldest = this.oldestPending();
    if (oldest === undefined || this.lagAlerted || (this.paused && this.pausedBy === 'operator')) return Infinity;
    return oldest + this.options.lagAlertMs;
  }

  /** Re-arms the alert once the lag falls under half the threshold; returns the alert when it is due. */
  takeLagAlert(now: number): LagAlert | undefined {
    const oldest = this.oldestPending();
    const lagMs = oldest === undefined ? 0 : now - oldest;
    if (lagMs < this.options.lagAlertMs / 2) this.lagAlerted = false;
    if (this.lagAlertAt() > now) return undefined;
    this.lagAlerted = true;
    this.lagAlerts++;
    return {
      key: `lag-${this.lagAlerts}`,
      lagMs,
      thresholdMs: this.options.lagAlertMs,
      buffered: this.buffer.size + this.inFlight,
      paused: this.paused,
    };
  }

  stats(historyLength: number): StreamStats {
    const oldest = this.oldestPending();
    return {
      ...this.counters,
      destinationId: this.destinationId,
      // What operators care about first: paused; `draining` is the brief handoff of a running stream.
      state: this.paused ? 'paused' : this.draining ? 'draining' : 'running',
      ...(this.pausedReason ? { pausedReason: this.pausedReason } : {}),
      buffered: this.buffer.size,
      bufferedBytes: this.buffer.totalChars,
      inFlight: this.inFlight,
      flushesInFlight: this.flights.size,
      ...(oldest !== undefined ? { oldestBufferedAt: new Date(oldest).toISOString() } : {}),
      ...(this.lastFlushAt ? { lastFlushAt: this.lastFlushAt } : {}),
      options: this.options,
      runs: this.runs,
      historyLength,
      startedAt: this.startedAt,
    };
  }

  /**
   * About what the continue-as-new event would weigh now (bytes): ~35 per buffered update by reference
   * (packed) and ~9 per log number to delete (updates by value of streams of an earlier version are
   * larger: underestimated). Cheap: it is read on every wake-up of the main loop.
   */
  carryBytes(): number {
    return 2000 + this.buffer.size * 35 + (this.accounted.length + this.buffer.dropped.length) * 9;
  }

  /** The Web UI's "current details" of the run (Markdown). */
  details(historyLength: number): string {
    const s = this.stats(historyLength);
    const opts = this.options;
    const lines = [
      `Destination \`${this.destinationId}\` · ${s.state}${this.pausedReason ? ` (${this.pausedReason})` : ''} · run ${this.runs}`,
      `Received ${s.received} · sent ${s.sent} · rejected ${s.rejected} · ignored ${s.ignored} · merged ${s.merged} · stale ${s.stale} · unchanged ${s.unchanged}`,
      `Buffered ${s.buffered} · in flight ${s.inFlight} (${plural(s.flushesInFlight, 'flush')}) · flushes ${s.flushes}${this.lastFlushAt ? ` · last ${this.lastFlushAt}` : ''}`,
      `Latency bound ${opts.maxLatencyMs} ms · batch ${opts.batchSize} · ≤ ${opts.maxConcurrentFlushes} flushes at once`,
    ];
    if (s.rejected)
      lines.push(
        `Rejections: ${Object.entries(s.rejectedByReason)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    return lines.join('\n\n');
  }

  /** Arguments of the next run: its input (counters, pause, sequence) and the buffer in payload-sized chunks. */
  nextRun(): [StreamInput, ...Array<BufferedUpdate[] | string>] {
    const next: StreamInput = {
      destinationId: this.destinationId,
      options: this.options,
      carry: {
        counters: this.counters,
        paused: this.paused,
        pausedReason: this.pausedReason,
        pausedBy: this.pausedBy,
        lagAlerts: this.lagAlerts,
        lagAlerted: this.lagAlerted,
        nextSeq: this.nextSeq,
        runsSoFar: this.runs,
        startedAt: this.startedAt,
        lastFlushAt: this.lastFlushAt,
        held: true,
        ...(this.accounted.length || this.buffer.dropped.length ? { remove: [...this.accounted, ...this.buffer.dropped] } : {}),
      },
    };
    // By reference: packed (≈ 30 characters each); by value (streams before the ingest log): as before.
    const all = this.buffer.snapshot();
    const packable = (u: PendingUpdate) =>
      !!u.refs && u.email === undefined && !Object.keys(u.statuses).length && !Object.keys(u.values).length;
    const byRef = all.filter(packable);
    const byValue = all.filter((u) => !packable(u));
    return [next, ...chunkForCarry(byValue.map(toWire), MAX_PAYLOAD_CHARS), ...packCarry(byRef, MAX_PAYLOAD_CHARS)];
  }
}
