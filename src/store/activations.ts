/** What was asked for each activation run (its input), so a run can be re-run and listed by destination. */
import type { SourceRef } from '../members/types';
import type { Db } from './db';

export interface ActivationRecord {
  id: string;
  destinationId: string;
  /** The first listed audience. */
  audience: { id: string; name: string; encoding?: 'property' | 'list' | 'both' };
  /** Every listed audience (`audience` first) of a several-audience run (or of a list-encoded one); absent for one-audience runs. */
  audiences?: Array<{ id: string; name: string; encoding?: 'property' | 'list' | 'both' }>;
  options?: {
    fullResync?: boolean;
    exitMissing?: boolean;
    dryRun?: boolean;
    mode?: 'upsert' | 'update' | 'create';
    maxRejectedPercent?: number;
    guardMinRecords?: number;
  };
  source: SourceRef;
  rerunOf?: string;
  rerunMode?: 'all' | 'rejected';
  createdAt: string;
}

interface Row {
  id: string;
  destination_id: string;
  audience_id: string;
  audience_name: string;
  source_json: string;
  rerun_of: string | null;
  rerun_mode: string | null;
  created_at: string;
}

function fromRow(r: Row): ActivationRecord {
  return {
    id: r.id,
    destinationId: r.destination_id,
    audience: { id: r.audience_id, name: r.audience_name },
    source: JSON.parse(r.source_json) as SourceRef,
    ...(r.rerun_of ? { rerunOf: r.rerun_of, rerunMode: r.rerun_mode as 'all' | 'rejected' } : {}),
    createdAt: r.created_at,
  };
}

export class ActivationStore {
  /** One run per destination × audience (below). */
  readonly slots: RunSlots;
  constructor(private readonly db: Db) {
    this.slots = new RunSlots(db);
  }

  async insert(a: ActivationRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO activations (id, destination_id, audience_id, audience_name, source_json, rerun_of, rerun_mode, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        a.id,
        a.destinationId,
        a.audience.id,
        a.audience.name,
        JSON.stringify(a.source),
        a.rerunOf ?? null,
        a.rerunMode ?? null,
        a.createdAt,
      ],
    );
    if (a.audiences || a.options)
      await this.db.query('INSERT INTO activation_audiences (activation_id, audiences_json, options_json) VALUES ($1, $2, $3)', [
        a.id,
        JSON.stringify(a.audiences ?? [a.audience]),
        JSON.stringify(a.options ?? {}),
      ]);
  }

  /** `insert` unless a record of that id exists (a scheduled run's first step may be retried). */
  async insertIfAbsent(a: ActivationRecord): Promise<void> {
    if (await this.get(a.id)) return;
    try {
      await this.insert(a);
    } catch (err) {
      if (!(await this.get(a.id))) throw err; // else a concurrent attempt inserted it
    }
  }

  /** Adds the audience list and options of several-audience runs (table activation_audiences). */
  private async withAudiences(r: ActivationRecord): Promise<ActivationRecord> {
    const rows = await this.db.query<{ audiences_json: string; options_json: string }>(
      'SELECT audiences_json, options_json FROM activation_audiences WHERE activation_id = $1',
      [r.id],
    );
    if (!rows[0]) return r;
    const audiences = JSON.parse(rows[0].audiences_json) as ActivationRecord['audiences'];
    const options = JSON.parse(rows[0].options_json) as ActivationRecord['options'];
    return {
      ...r,
      ...(audiences && audiences.length > 1 ? { audiences } : {}),
      ...(options && Object.keys(options).length ? { options } : {}),
    };
  }

  async get(id: string): Promise<ActivationRecord | undefined> {
    const rows = await this.db.query<Row>('SELECT * FROM activations WHERE id = $1', [id]);
    return rows[0] ? this.withAudiences(fromRow(rows[0])) : undefined;
  }
}

/** Who holds a destination × audience's run slot, and since when (ms). */
export interface RunSlotHolder {
  activationId: string;
  claimedAt: number;
}

export type RunSlotClaim = { ok: true } | { ok: false; holder: RunSlotHolder };

/**
 * One run per destination × audience at a time: a slot per pair in the store's locked key-value table
 * (atomic across API processes and hosts, SQLite or PostgreSQL). A claim is a compare-and-set: it only
 * lands on the value the caller saw, so of two starts at the same moment exactly one wins. A slot is not
 * released when its run ends; `isFree` (the caller asks Temporal whether the holder still runs) decides
 * whether a held slot may be taken over. See docs/decisions.md.
 */
export class RunSlots {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {}

  private key(destinationId: string, audienceId: string): string {
    return `run-slot:${JSON.stringify([destinationId, audienceId])}`;
  }

  private parse(v: string | undefined): RunSlotHolder | undefined {
    return v ? (JSON.parse(v) as RunSlotHolder) : undefined;
  }

  async holder(destinationId: string, audienceId: string): Promise<RunSlotHolder | undefined> {
    const rows = await this.db.query<{ v: string }>('SELECT v FROM kv_locked WHERE k = $1', [this.key(destinationId, audienceId)]);
    return this.parse(rows[0]?.v);
  }

  async claim(
    destinationId: string,
    audienceId: string,
    activationId: string,
    isFree: (holder: RunSlotHolder) => Promise<boolean>,
  ): Promise<RunSlotClaim> {
    const key = this.key(destinationId, audienceId);
    for (let attempt = 0; attempt < 10; attempt++) {
      const seen = await this.holder(destinationId, audienceId);
      if (seen && !(await isFree(seen))) return { ok: false, holder: seen };
      const mine: RunSlotHolder = { activationId, claimedAt: this.clock() };
      const won = await this.db.updateLocked(key, (cur) => {
        const now = this.parse(cur);
        return now?.activationId === seen?.activationId && now?.claimedAt === seen?.claimedAt
          ? { next: JSON.stringify(mine), result: true }
          : { next: cur ?? '', result: false };
      });
      if (won) return { ok: true };
    }
    throw new Error(`The run slot of destination ${destinationId} × audience ${audienceId} kept changing; try again.`);
  }

  /** Gives the slot back if `activationId` still holds it (its run could not be started). */
  async release(destinationId: string, audienceId: string, activationId: string): Promise<void> {
    await this.db.updateLocked(this.key(destinationId, audienceId), (cur) => ({
      next: this.parse(cur)?.activationId === activationId ? '' : (cur ?? ''),
      result: undefined,
    }));
  }
}
