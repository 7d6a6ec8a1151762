/**
 * One rate budget per HubSpot account, shared by every activity and every worker process through a
 * locked row in the shared store (SQLite on one machine, PostgreSQL across hosts). Callers `acquire`
 * before each HubSpot call and `observe` each response's headers.
 */
import crypto from 'node:crypto';
import {
  DEFAULT_POLICY,
  emptyState,
  markDailyExhausted,
  observe,
  reserve,
  type AccountRateState,
  type CallClass,
  type GovernorPolicy,
  type Observation,
} from './policy';

/** Atomic read-modify-write of a text value; `Db` implements it, `MemoryLockedKv` for one process. */
export interface LockedKv {
  updateLocked<T>(key: string, fn: (current: string | undefined) => { next: string; result: T }): Promise<T>;
}

export class MemoryLockedKv implements LockedKv {
  private readonly values = new Map<string, string>();
  async updateLocked<T>(key: string, fn: (current: string | undefined) => { next: string; result: T }): Promise<T> {
    const out = fn(this.values.get(key));
    this.values.set(key, out.next);
    return out.result;
  }
}

/** The account's daily budget is used up; nothing should be sent before `resetsAt` (ms), when known. */
export class DailyBudgetExhaustedError extends Error {
  override name = 'DailyBudgetExhaustedError';
  constructor(
    readonly accountKey: string,
    readonly resetsAt?: number,
  ) {
    super(`HubSpot's daily API limit for this account is used up${resetsAt ? ` until ${new Date(resetsAt).toISOString()}` : ''}.`);
  }
}

export interface WaitInfo {
  waitMs: number;
  reason: string;
}

export interface RateGovernor {
  /** Waits for a slot and reserves it; the returned reservation must be settled with `observe`. */
  acquire(accountKey: string, options?: { cls?: CallClass; signal?: AbortSignal; onWait?: (w: WaitInfo) => void }): Promise<string>;
  observe(accountKey: string, obs: Observation): Promise<void>;
  markDailyExhausted(accountKey: string, resetsAt: number): Promise<void>;
  /** Total time callers spent waiting for a slot, for metrics. */
  readonly waitedMs: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class SharedRateGovernor implements RateGovernor {
  private waited = 0;
  constructor(
    private readonly kv: LockedKv,
    private readonly policy: GovernorPolicy = DEFAULT_POLICY,
    private readonly clock: () => number = Date.now,
  ) {}

  get waitedMs(): number {
    return this.waited;
  }

  private key(accountKey: string): string {
    return `rate:${accountKey}`;
  }

  private parse(current: string | undefined): AccountRateState {
    // `pending` arrived with settle-at-answer; state written before it has none.
    if (!current) return emptyState(this.policy);
    const state = JSON.parse(current) as AccountRateState;
    state.pending ??= {};
    return state;
  }

  async acquire(
    accountKey: string,
    options: { cls?: CallClass; signal?: AbortSignal; onWait?: (w: WaitInfo) => void } = {},
  ): Promise<string> {
    const cls = options.cls ?? 'standard';
    const reservation = crypto.randomBytes(6).toString('base64url');
    for (;;) {
      const decision = await this.kv.updateLocked(this.key(accountKey), (cur) => {
        const out = reserve(this.parse(cur), this.clock(), cls, this.policy, reservation);
        return { next: JSON.stringify(out.state), result: out.decision };
      });
      if (decision.ok) return decision.reservation;
      if (decision.reason === 'daily') throw new DailyBudgetExhaustedError(accountKey, decision.dailyExhaustedUntil);
      options.onWait?.({ waitMs: decision.waitMs, reason: decision.reason });
      const started = this.clock();
      await sleep(decision.waitMs, options.signal);
      this.waited += this.clock() - started;
    }
  }

  async observe(accountKey: string, obs: Observation): Promise<void> {
    await this.kv.updateLocked(this.key(accountKey), (cur) => ({
      next: JSON.stringify(observe(this.parse(cur), this.clock(), obs, this.policy)),
      result: undefined,
    }));
  }

  async markDailyExhausted(accountKey: string, resetsAt: number): Promise<void> {
    await this.kv.updateLocked(this.key(accountKey), (cur) => ({
      next: JSON.stringify(markDailyExhausted(this.parse(cur), resetsAt)),
      result: undefined,
    }));
  }
}
