/**
 * Delivers reduced updates from the API to a destination's stream workflow, with `signalWithStart` (so
 * the first update starts the stream). A request resolves only once Temporal accepted every signal that
 * carries its updates: then they are durable in history.
 *
 * Requests for the same destination share signals: at most `inFlight` signals per destination are on the
 * wire; what arrives meanwhile waits and leaves together in the next one (no added delay when idle, fewer
 * history events under load). Each signal stays under `maxChars` of JSON, well below Temporal's 256 KB
 * payload warning. While the stream holds signals for its continue-as-new (`holds`), requests wait.
 */
import type { Client, WorkflowSignalWithStartOptions } from '@temporalio/client';
import type { SignalDefinition, WithWorkflowArgs } from '@temporalio/common';
import { destinationStream } from '../../workflows/destination-stream';
import { profilesSignal } from '../../workflows/messages';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { packRefs } from './wire';
import { escapeMarkdown } from '../../workflows/markdown';
import { DestinationIdKey } from '../temporal/search-attributes';
import type { StreamHolds } from './holds';
import { REF_KEY_CHARS } from './ingest-log';
import {
  streamWorkflowId,
  type EmailProblem,
  type ProfilesSignal,
  type StreamInput,
  type StreamOptions,
  type StreamUpdate,
  type UpdateRef,
} from './types';

/** The compact `profiles` signal of logged updates: numbers relative to the smallest, times to `at`. */
export function refsSignal(at: number, updates: LoggedUpdate[]): ProfilesSignal {
  let n = Infinity;
  for (const u of updates) if (u.seq < n) n = u.seq;
  const refs = updates.map((u): UpdateRef => (u.problem ? [u.seq - n, u.key, u.t - at, u.problem] : [u.seq - n, u.key, u.t - at]));
  return { at, n, refs: packRefs(refs) };
}

/**
 * Budget of one signal of references (≈ 100 updates, an event of ≈ 2.5 KB). Under load a signal event's
 * fixed part (≈ 300 bytes) was most of a 550-character signal's cost, and a history page holds a whole
 * run (up to a few thousand events) whatever the events' sizes: pages are bounded by the run's history
 * bytes (MAX_RUN_HISTORY_BYTES), so fewer, fuller signals cost less history and fewer RPCs.
 */
export const MAX_REFS_SIGNAL_CHARS = 2_200;

/** Characters `refSize` counts for a reference beside its key, and for its problem flag. */
const REF_OTHER_CHARS = 7;
const REF_PROBLEM_CHARS = 2;
/** The most one reference counts: a full key and a problem flag. */
const MAX_REF_CHARS = REF_KEY_CHARS + REF_OTHER_CHARS + REF_PROBLEM_CHARS;

/** While a stream holds signals for its handoff, how often a waiting queue re-reads the hold (was 25 ms). */
export const HOLD_POLL_MS = 10;

/**
 * The least time between two signals of one destination from one API process (decision 34), unless
 * nothing waited when the last one returned (then the next request's signal goes at once) or what waits
 * already fills a signal (a request of many profiles is not slowed). A signal's history event costs ~230
 * bytes whatever it carries, plus ~20 per update, and each may wake the workflow for a task of its own
 * (three more events): on a quiet machine answers came back in ~10 ms, so at 1,000 updates/s signals
 * held ~10 updates and history reached 100–102 bytes an update. Waiting out the rest of 20 ms since the
 * last signal makes them ≥ 20 updates each at that rate; a request waits at most the rest of the interval
 * beyond what it waits for the signal in flight anyway.
 */
export const MIN_SIGNAL_INTERVAL_MS = 20;

export interface StreamTarget {
  destinationId: string;
  destinationName: string;
}

/** An update written to the ingest log, as the stream workflow will see it (no contact data). */
export interface LoggedUpdate {
  seq: number;
  /** Keyed email hash ('' when the email is missing or invalid). */
  key: string;
  t: number;
  problem?: EmailProblem;
}

interface Parcel {
  updates: LoggedUpdate[];
  chars: number;
  at: number;
  resolve(): void;
  reject(err: unknown): void;
}

interface Queue {
  target: StreamTarget;
  pending: Parcel[];
  sending: number;
  pumping: boolean;
  /** When its last signal left (0: none yet). */
  lastSentAt: number;
}

export interface StreamSignalSenderOptions {
  client: Client;
  taskQueue: string;
  /** Options a stream starts with (from the API's config). */
  defaults: Partial<StreamOptions>;
  inFlight: number;
  maxChars?: number;
  holds?: StreamHolds;
  /** MIN_SIGNAL_INTERVAL_MS unless given (0: none). */
  minIntervalMs?: number;
}

export class StreamSignalSender {
  private readonly queues = new Map<string, Queue>();
  private readonly maxChars: number;
  private readonly minIntervalMs: number;

  constructor(private readonly o: StreamSignalSenderOptions) {
    this.maxChars = o.maxChars ?? MAX_REFS_SIGNAL_CHARS;
    this.minIntervalMs = o.minIntervalMs ?? MIN_SIGNAL_INTERVAL_MS;
  }

  /** Size of one update as it travels (callers refuse updates that could never fit a signal). */
  static sizeOf(u: StreamUpdate): number {
    return JSON.stringify(u).length + 1;
  }

  /** Upper bound of the size of one reference in a signal. */
  private static refSize(u: LoggedUpdate): number {
    return u.key.length + REF_OTHER_CHARS + (u.problem ? REF_PROBLEM_CHARS : 0);
  }

  /**
   * Resolves when every reference is in a signal Temporal accepted; rejects if any signal failed. The
   * updates themselves are already in the ingest log.
   */
  send(target: StreamTarget, updates: LoggedUpdate[], receivedAt: number): Promise<void> {
    const parcels: Array<Promise<void>> = [];
    let current: LoggedUpdate[] = [];
    let chars = 0;
    const flush = () => {
      if (current.length === 0) return;
      const updatesOfParcel = current;
      const size = chars;
      parcels.push(
        new Promise<void>((resolve, reject) =>
          this.enqueue(target, { updates: updatesOfParcel, chars: size, at: receivedAt, resolve, reject }),
        ),
      );
      current = [];
      chars = 0;
    };
    for (const u of updates) {
      const n = StreamSignalSender.refSize(u);
      if (chars + n > this.maxChars) flush();
      current.push(u);
      chars += n;
    }
    flush();
    return Promise.all(parcels).then(() => undefined);
  }

  /** Pause, resume or re-tune a stream (starting it if it is not running yet). */
  async control<Args extends unknown[]>(target: StreamTarget, signal: SignalDefinition<Args>, args: Args): Promise<void> {
    // The SDK types `signalArgs` with a conditional type TypeScript cannot resolve for a generic Args; the signature above checks them.
    const options = { ...this.startOptions(target), signal, signalArgs: args } as unknown;
    await this.o.client.workflow.signalWithStart(
      destinationStream,
      options as WithWorkflowArgs<typeof destinationStream, WorkflowSignalWithStartOptions<Args>>,
    );
  }

  private startOptions(target: StreamTarget) {
    const input: StreamInput = { destinationId: target.destinationId, options: this.o.defaults };
    return {
      workflowId: streamWorkflowId(target.destinationId),
      taskQueue: this.o.taskQueue,
      // A stream closed for good (failed, terminated) is started afresh by the next signal: a 202 from
      // `POST …/profiles` always means a running stream holds the update (a running one is signalled).
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      args: [input] as [StreamInput],
      typedSearchAttributes: [{ key: DestinationIdKey, value: target.destinationId }],
      staticSummary: `Stream profile updates → ${escapeMarkdown(target.destinationName)}`,
      staticDetails: [
        `Destination: \`${target.destinationId}\` (${escapeMarkdown(target.destinationName)})`,
        'Profile updates arrive by signal (`profiles`), are merged by email and flushed to HubSpot in batches of ≤ 100.',
        'Operators: `pauseStream` / `resumeStream` signals; stats: `streamStats` query (or `hubspot-destination stream stats`).',
      ].join('\n\n'),
    };
  }

  private enqueue(target: StreamTarget, parcel: Parcel): void {
    let q = this.queues.get(target.destinationId);
    if (!q) this.queues.set(target.destinationId, (q = { target, pending: [], sending: 0, pumping: false, lastSentAt: 0 }));
    q.target = target;
    q.pending.push(parcel);
    this.pump(q);
  }

  private pump(q: Queue): void {
    if (q.pumping) return;
    q.pumping = true;
    void this.pumpLoop(q).finally(() => {
      q.pumping = false;
      if (q.pending.length > 0 && q.sending < this.o.inFlight) this.pump(q);
      else if (q.pending.length === 0 && q.sending === 0) this.queues.delete(q.target.destinationId);
    });
  }

  /** Milliseconds to keep waiting because the stream holds signals (0: send now). */
  private async holdLeft(destinationId: string): Promise<number> {
    if (!this.o.holds) return 0;
    try {
      return Math.max(0, (await this.o.holds.holdUntil(destinationId)) - Date.now());
    } catch {
      return 0; // The hold is an optimisation of continue-as-new; never refuse updates over it.
    }
  }

  /** Whether the waiting parcels fill a signal (within two references of its bound): no reason to wait for more. */
  private fillsSignal(pending: readonly Parcel[]): boolean {
    let chars = 0;
    for (const p of pending) if ((chars += p.chars) >= this.maxChars - 2 * MAX_REF_CHARS) return true;
    return false;
  }

  private async pumpLoop(q: Queue): Promise<void> {
    while (q.sending < this.o.inFlight && q.pending.length > 0) {
      const wait = await this.holdLeft(q.target.destinationId);
      if (wait > 0) {
        // Re-read often: the next run lifts the hold as it starts, well before the lease ends.
        await new Promise((r) => setTimeout(r, Math.min(wait, HOLD_POLL_MS)));
        continue;
      }
      const gap = q.lastSentAt + this.minIntervalMs - Date.now();
      if (gap > 0 && !this.fillsSignal(q.pending)) {
        // More requests join this signal meanwhile; the hold is read again after the wait.
        await new Promise((r) => setTimeout(r, gap));
        continue;
      }
      const group: Parcel[] = [q.pending.shift()!];
      let chars = group[0].chars;
      while (q.pending.length > 0 && chars + q.pending[0].chars <= this.maxChars) {
        chars += q.pending[0].chars;
        group.push(q.pending.shift()!);
      }
      q.sending++;
      q.lastSentAt = Date.now();
      const payload = refsSignal(
        Math.min(...group.map((p) => p.at)),
        group.flatMap((p) => p.updates),
      );
      this.o.client.workflow
        .signalWithStart(destinationStream, { ...this.startOptions(q.target), signal: profilesSignal, signalArgs: [payload] })
        .then(
          () => group.forEach((p) => p.resolve()),
          (err) => group.forEach((p) => p.reject(err)),
        )
        .finally(() => {
          q.sending--;
          if (q.pending.length > 0) this.pump(q);
          else if (q.sending === 0 && !q.pumping) this.queues.delete(q.target.destinationId);
        });
    }
  }
}
