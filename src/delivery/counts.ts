/**
 * Per-run accounting. The invariant every run must satisfy (and tests assert):
 *   received = upserted + rejected + skipped, with upserted = created + updated.
 * Counts hold numbers and reason codes only: they travel through workflow history.
 */
export interface DeliveryCounts {
  received: number;
  upserted: number;
  created: number;
  updated: number;
  rejected: number;
  skipped: number;
  rejectedByReason: Record<string, number>;
  skippedByReason: Record<string, number>;
  /** Several-audience runs: per listed audience, its members handled (sent or unchanged) by status. */
  byAudience?: Record<string, AudienceCounts>;
  /** Dry runs: what a real run would do (docs/safe-runs.md); every member is counted skipped or rejected. */
  plan?: PlanCounts;
}

/**
 * A dry run's outcome: contacts that would be created, updated, left unchanged, and rejected; `exit`
 * counts those among the created and updated whose status in a listed audience would become `exited`.
 */
export interface PlanCounts {
  create: number;
  update: number;
  unchanged: number;
  exit: number;
  reject: number;
  /** List-encoded audiences: memberships the run would add (realized/existing) and remove (exited). */
  listAdd: number;
  listRemove: number;
}

export function emptyPlan(): PlanCounts {
  return { create: 0, update: 0, unchanged: 0, exit: 0, reject: 0, listAdd: 0, listRemove: 0 };
}

function addPlans(a: PlanCounts | undefined, b: PlanCounts | undefined): PlanCounts | undefined {
  if (!a || !b) return a ?? b;
  return {
    create: a.create + b.create,
    update: a.update + b.update,
    unchanged: a.unchanged + b.unchanged,
    exit: a.exit + b.exit,
    reject: a.reject + b.reject,
    // Plans carried by a run of an earlier version lack the list counts.
    listAdd: (a.listAdd ?? 0) + (b.listAdd ?? 0),
    listRemove: (a.listRemove ?? 0) + (b.listRemove ?? 0),
  };
}

export interface AudienceCounts {
  members: number;
  byStatus: Record<string, number>;
}

export function emptyCounts(): DeliveryCounts {
  return { received: 0, upserted: 0, created: 0, updated: 0, rejected: 0, skipped: 0, rejectedByReason: {}, skippedByReason: {} };
}

function addReasons(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function addAudiences(a: DeliveryCounts['byAudience'], b: DeliveryCounts['byAudience']): DeliveryCounts['byAudience'] {
  if (!a || !b) return a ?? b;
  const out: Record<string, AudienceCounts> = { ...a };
  for (const [id, c] of Object.entries(b)) {
    const prev = out[id];
    out[id] = prev ? { members: prev.members + c.members, byStatus: addReasons(prev.byStatus, c.byStatus) } : c;
  }
  return out;
}

/** Counts one member of an audience with its status. */
export function countMember(c: DeliveryCounts, audienceId: string, status: string): void {
  const audiences = (c.byAudience ??= {});
  const a = (audiences[audienceId] ??= { members: 0, byStatus: {} });
  a.members++;
  a.byStatus[status] = (a.byStatus[status] ?? 0) + 1;
}

export function addCounts(a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts {
  const byAudience = addAudiences(a.byAudience, b.byAudience);
  const plan = addPlans(a.plan, b.plan);
  return {
    received: a.received + b.received,
    upserted: a.upserted + b.upserted,
    created: a.created + b.created,
    updated: a.updated + b.updated,
    rejected: a.rejected + b.rejected,
    skipped: a.skipped + b.skipped,
    rejectedByReason: addReasons(a.rejectedByReason, b.rejectedByReason),
    skippedByReason: addReasons(a.skippedByReason, b.skippedByReason),
    ...(byAudience ? { byAudience } : {}),
    ...(plan ? { plan } : {}),
  };
}

export function countRejected(c: DeliveryCounts, code: string, n = 1): void {
  c.rejected += n;
  c.rejectedByReason[code] = (c.rejectedByReason[code] ?? 0) + n;
}

export function countSkipped(c: DeliveryCounts, code: string, n = 1): void {
  c.skipped += n;
  c.skippedByReason[code] = (c.skippedByReason[code] ?? 0) + n;
}

/** Returns a description of the broken invariant, or undefined when the books balance. */
export function accountingError(c: DeliveryCounts): string | undefined {
  if (c.received !== c.upserted + c.rejected + c.skipped) {
    return `received ${c.received} != upserted ${c.upserted} + rejected ${c.rejected} + skipped ${c.skipped}`;
  }
  if (c.upserted !== c.created + c.updated) return `upserted ${c.upserted} != created ${c.created} + updated ${c.updated}`;
  const sum = (r: Record<string, number>) => Object.values(r).reduce((x, y) => x + y, 0);
  if (sum(c.rejectedByReason) !== c.rejected) return 'rejections by reason do not add up';
  if (sum(c.skippedByReason) !== c.skipped) return 'skips by reason do not add up';
  return undefined;
}
