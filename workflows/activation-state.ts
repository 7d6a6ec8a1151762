/**
 * What one `activateAudience` run knows and how it changes: phase, counts, pages, the daily-limit wait
 * and the state carried across continue-as-new. Pure and deterministic (time comes in as arguments), so
 * it is unit-tested without Temporal; the workflow calls activities and reports this state.
 */
import type { AlertCounts } from '../src/alerts/events';
import { addCounts, emptyCounts } from '../src/delivery/counts';
import { START_CURSOR } from '../src/members/types';
import { escapeMarkdown } from './markdown';
import type {
  ActivationCarry,
  ActivationInput,
  ActivationPhase,
  ActivationProgress,
  ActivationSummary,
  AudienceListSummary,
  DeliveryCounts,
  SourceCursor,
} from './types';

/** What a page activity reports back. */
export interface PagesResult {
  counts: DeliveryCounts;
  pages: number;
  next: SourceCursor;
  done: boolean;
}

/** How long to sleep for HubSpot's daily reset: until a second after it, at least a second. */
export function dailyResetWaitMs(resetsAt: string, now: number): number {
  return Math.max(1000, Date.parse(resetsAt) - now + 1000);
}

export class ActivationState {
  phase: ActivationPhase;
  counts: DeliveryCounts;
  pagesDone: number;
  waitingUntil?: string;
  waitReason?: string;
  /** `exitMissing` runs: statuses set to exited for members the snapshot no longer held (per contact × audience). */
  exitsWritten?: number;
  /** List-encoded audiences: each one's list and membership writes (set after the upserts). */
  lists?: Record<string, AudienceListSummary>;
  /** Dry runs: the audience status properties a real run would create. */
  propertiesToCreate: string[];
  readonly startedAt: string;
  /** This run's number in the chain of continue-as-new runs (1 for the first). */
  readonly runs: number;
  /** Set once setup is done (or carried from the previous run): where the pages stand. */
  private carry?: ActivationCarry;

  constructor(
    private readonly input: ActivationInput,
    now: number,
  ) {
    this.carry = input.carry;
    this.phase = this.carry ? 'sending' : 'starting';
    this.counts = this.carry?.counts ?? emptyCounts();
    this.pagesDone = this.carry?.pagesDone ?? 0;
    this.startedAt = this.carry?.startedAt ?? new Date(now).toISOString();
    this.runs = (this.carry?.runsSoFar ?? 0) + 1;
    this.propertiesToCreate = [...(this.carry?.propertiesToCreate ?? [])];
  }

  /** Setup (token, property, source count) runs once per activation, not once per run. */
  get needsSetup(): boolean {
    return this.carry === undefined;
  }

  get totalRecords(): number | undefined {
    return this.carry?.totalRecords;
  }

  /** Setup is done: pages start from the beginning of the source. */
  setUpDone(propertyName: string, totalRecords: number | undefined, portalId?: number, propertyNames?: string[]): void {
    this.carry = {
      ...(propertyNames ? { propertyNames } : {}),
      cursor: START_CURSOR,
      counts: this.counts,
      pagesDone: this.pagesDone,
      runsSoFar: 0,
      startedAt: this.startedAt,
      propertyName,
      totalRecords,
      ...(portalId !== undefined ? { portalId } : {}),
    };
  }

  /** Where the next page activity starts, and the audience property it writes. */
  nextPages(): { cursor: SourceCursor; propertyName: string; propertyNames?: string[]; portalId?: number } {
    const carry = this.setUp();
    return { cursor: carry.cursor, propertyName: carry.propertyName, propertyNames: carry.propertyNames, portalId: carry.portalId };
  }

  /** A page activity reported back; returns whether the source is exhausted. */
  recordPages(result: PagesResult): boolean {
    this.counts = addCounts(this.counts, result.counts);
    this.pagesDone += result.pages;
    this.carry = { ...this.setUp(), cursor: result.next, counts: this.counts, pagesDone: this.pagesDone };
    return result.done;
  }

  /** Offset of the page run in progress (whose checkpoint holds what it delivered), once set up. */
  pageRunOffset(): number | undefined {
    return this.carry?.cursor.offset;
  }

  /** The run closed early (cancelled, failed): add what the stopped page run delivered (its checkpoint). */
  recordStoppedPages(counts: DeliveryCounts | undefined): void {
    if (counts) this.counts = addCounts(this.counts, counts);
  }

  /** What a closed run reports (memo `closedRun`): exactly what it wrote and rejected. */
  closedRun(status: 'cancelled' | 'failed'): { status: string; counts: DeliveryCounts; pagesDone: number; totalRecords?: number } {
    return {
      status,
      counts: this.counts,
      pagesDone: this.pagesDone,
      ...(this.totalRecords !== undefined ? { totalRecords: this.totalRecords } : {}),
    };
  }

  waitForDailyReset(resetsAt: string): void {
    this.phase = 'waiting-daily-limit';
    this.waitingUntil = resetsAt;
    this.waitReason = "HubSpot's daily API limit is used up";
  }

  resumeSending(): void {
    this.phase = 'sending';
    this.waitingUntil = undefined;
    this.waitReason = undefined;
  }

  /** What the next run (continue-as-new) starts from. */
  carryForNextRun(): ActivationCarry {
    return {
      ...this.setUp(),
      runsSoFar: this.runs,
      ...(this.propertiesToCreate.length ? { propertiesToCreate: this.propertiesToCreate } : {}),
    };
  }

  get outcome(): ActivationSummary['status'] {
    return this.counts.rejected + this.listRejected > 0 ? 'completed_with_rejections' : 'completed';
  }

  /** Members no list could take (stored rejections besides the upserts' own). */
  get listRejected(): number {
    return Object.values(this.lists ?? {}).reduce((n, l) => n + l.rejected, 0);
  }

  /** Counts as alerts report them (no skip reasons). */
  alertCounts(): AlertCounts {
    const { received, upserted, created, updated, rejected, skipped, rejectedByReason } = this.counts;
    return { received, upserted, created, updated, rejected, skipped, rejectedByReason };
  }

  /** Answer of the `progress` query. */
  progress(): ActivationProgress {
    const { activationId, destinationId, audience, audiences } = this.input;
    const paging = this.phase === 'sending' || this.phase === 'waiting-daily-limit';
    return {
      activationId,
      destinationId,
      audience,
      ...(audiences ? { audiences } : {}),
      phase: this.phase,
      pagesDone: this.pagesDone,
      totalRecords: this.totalRecords,
      counts: this.counts,
      startedAt: this.startedAt,
      waitingUntil: this.waitingUntil,
      waitReason: this.waitReason,
      runs: this.runs,
      activityCursor: paging ? this.carry?.cursor : undefined,
    };
  }

  /** The Web UI's "current details" of the run (Markdown). */
  details(): string {
    const { audience, audiences, destinationId } = this.input;
    const { counts, pagesDone, runs } = this;
    const total = this.totalRecords;
    const lines = [
      audiences
        ? `**${audiences.length} audiences** → destination \`${destinationId}\`: ${audiences.map((a) => `${escapeMarkdown(a.name)} (\`${a.id}\`)`).join(', ')}`
        : `**${escapeMarkdown(audience.name)}** → destination \`${destinationId}\``,
      `Phase: ${this.phase}${this.waitingUntil ? ` until ${this.waitingUntil} (${this.waitReason})` : ''}`,
      `Members read: ${counts.received}${total !== undefined ? ` of ${total}` : ''} · pages: ${pagesDone} · run ${runs}`,
      `Upserted: ${counts.upserted} (created ${counts.created}, updated ${counts.updated}) · rejected: ${counts.rejected} · skipped: ${counts.skipped}`,
    ];
    if (counts.rejected)
      lines.push(
        `Rejections: ${Object.entries(counts.rejectedByReason)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    if (counts.plan)
      lines.push(
        `Dry run (nothing written) — would create ${counts.plan.create} · update ${counts.plan.update} · unchanged ${counts.plan.unchanged} · exit ${counts.plan.exit} · reject ${counts.rejected}`,
      );
    const unchanged = counts.skippedByReason.UNCHANGED;
    if (unchanged) lines.push(`Unchanged (not sent): ${unchanged}`);
    for (const [id, l] of Object.entries(this.lists ?? {}))
      lines.push(
        `List of \`${id}\`: **${escapeMarkdown(l.listName)}** (list id ${l.listId}) · added ${l.added} · removed ${l.removed}${l.reResolved ? ` · found again after merges ${l.reResolved}` : ''}${l.rejected ? ` · rejected ${l.rejected}` : ''}${l.gone ? ` · gone from HubSpot ${l.gone}` : ''}`,
      );
    if (counts.byAudience)
      lines.push(
        `Members by audience: ${Object.entries(counts.byAudience)
          .map(([id, a]) => `\`${id}\` ${a.members}`)
          .join(', ')}`,
      );
    return lines.join('\n\n');
  }

  /** The workflow's result. */
  summary(finishedAt: string): ActivationSummary {
    const { activationId, destinationId, audience, audiences } = this.input;
    return {
      activationId,
      destinationId,
      audience,
      ...(audiences ? { audiences } : {}),
      ...(this.exitsWritten !== undefined ? { exitsWritten: this.exitsWritten } : {}),
      ...(this.lists ? { lists: this.lists } : {}),
      status: this.outcome,
      ...this.counts,
      ...(this.input.options?.dryRun
        ? {
            dryRun: true,
            plan: {
              ...(this.counts.plan ?? { create: 0, update: 0, unchanged: 0, exit: 0, reject: 0, listAdd: 0, listRemove: 0 }),
              reject: this.counts.rejected,
              propertiesToCreate: this.propertiesToCreate,
            },
          }
        : {}),
      pages: this.pagesDone,
      runs: this.runs,
      startedAt: this.startedAt,
      finishedAt,
    };
  }

  private setUp(): ActivationCarry {
    if (!this.carry) throw new Error('The activation is not set up yet');
    return this.carry;
  }
}
