/** Output helpers for the CLI: summary tables and live progress (cli-progress). */
import cliProgress from 'cli-progress';
import type { DeliveryCounts } from '../delivery/counts';
import type { ApiClient } from './api-client';

export interface ActivationViewLike {
  activationId: string;
  status: string;
  phase?: string;
  audience: { id: string; name: string };
  audiences?: Array<{ id: string; name: string }>;
  destinationId: string;
  progress?: { pagesDone: number; totalRecords?: number; counts: Counts; waitingUntil?: string; waitReason?: string };
  summary?: Counts & {
    startedAt: string;
    finishedAt: string;
    status: string;
    pages: number;
    exitsWritten?: number;
    dryRun?: boolean;
    plan?: {
      create: number;
      update: number;
      unchanged: number;
      exit: number;
      reject: number;
      listAdd?: number;
      listRemove?: number;
      propertiesToCreate?: string[];
    };
  };
  failure?: { type?: string; message: string };
  webUiUrl: string;
}

type Counts = DeliveryCounts;

const FINAL = new Set(['completed', 'completed_with_rejections', 'failed', 'cancelled', 'terminated', 'timed_out']);

export function isFinal(status: string): boolean {
  return FINAL.has(status);
}

export function printSummary(a: ActivationViewLike, out: (s: string) => void = console.log): void {
  out(`Activation ${a.activationId}: ${a.status}`);
  if (a.failure) out(`Failure (${a.failure.type ?? 'error'}): ${a.failure.message}`);
  const c = a.summary ?? a.progress?.counts;
  if (c) {
    const rows: Array<[string, string | number]> = [
      ...(a.audiences ?? [a.audience]).map((x): [string, string] => ['audience', `${x.name} (${x.id})`]),
      ['received', c.received],
      ['upserted', `${c.upserted} (created ${c.created}, updated ${c.updated})`],
      ['rejected', c.rejected],
      ...Object.entries(c.rejectedByReason).map(([k, v]): [string, number] => [`  rejected: ${k}`, v]),
      ['skipped', c.skipped],
      ...Object.entries(c.skippedByReason).map(([k, v]): [string, number] => [`  skipped: ${k}`, v]),
      ...Object.entries(c.byAudience ?? {}).map(([id, m]): [string, string] => [
        `  members: ${id}`,
        `${m.members} (${Object.entries(m.byStatus)
          .map(([st, n]) => `${st} ${n}`)
          .join(', ')})`,
      ]),
    ];
    if (a.summary?.exitsWritten !== undefined) rows.push(['exits written', a.summary.exitsWritten]);
    const plan = a.summary?.plan;
    if (plan) {
      rows.push(
        ['DRY RUN', 'nothing was written'],
        ['  would create', plan.create],
        ['  would update', plan.update],
        ['  unchanged', plan.unchanged],
        ['  would exit', plan.exit],
        ['  would reject', plan.reject],
        ...(plan.listAdd || plan.listRemove
          ? [['  list adds / removes', `${plan.listAdd ?? 0} / ${plan.listRemove ?? 0}`] as [string, string]]
          : []),
        ['  properties to create', plan.propertiesToCreate?.length ? plan.propertiesToCreate.join(', ') : 'none'],
      );
    }
    if (a.summary) {
      const secs = (Date.parse(a.summary.finishedAt) - Date.parse(a.summary.startedAt)) / 1000;
      rows.push(
        ['pages', a.summary.pages],
        ['duration', `${secs.toFixed(1)} s`],
        ['rate', `${(c.received / Math.max(secs, 0.001)).toFixed(0)} members/s`],
      );
    }
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) out(`  ${k.padEnd(width)}  ${v}`);
  }
  out(`Web UI: ${a.webUiUrl}`);
}

export interface PlanLineLike {
  line: number;
  email?: string;
  action: string;
  changes?: Array<{ property: string; old: string | null; new: string }>;
  reason?: { code: string; message: string };
}

/** Plan lines as a table: line, action, email, then the changes (old → new) or the reason. */
export function printPlanLines(lines: PlanLineLike[], out: (s: string) => void = console.log): void {
  for (const l of lines) {
    const what = l.changes?.length
      ? l.changes.map((c) => `${c.property}: ${c.old ?? '∅'} → ${c.new}`).join('; ')
      : l.reason
        ? `${l.reason.code} ${l.reason.message}`
        : '';
    out(`  ${String(l.line).padStart(7)}  ${l.action.padEnd(9)}  ${(l.email ?? '').padEnd(32)}  ${what}`);
  }
}

/** Polls an activation, showing a live bar (members done of total, rate, ETA) until it ends. */
export async function watchActivation(
  api: ApiClient,
  activationId: string,
  options: { intervalMs?: number; stream?: NodeJS.WriteStream } = {},
): Promise<ActivationViewLike> {
  const stream = options.stream ?? process.stderr;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        ' {bar} {percentage}% | {value}/{total} members | {rate}/s | ETA {eta_formatted} | upserted {upserted} rejected {rejected} | {phase}',
      hideCursor: true,
      etaBuffer: 20,
      noTTYOutput: !stream.isTTY,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let startedBar = false;
  try {
    for (;;) {
      const a = await api.get<ActivationViewLike>(`/v1/activations/${encodeURIComponent(activationId)}`);
      const counts = a.summary ?? a.progress?.counts;
      const total = a.progress?.totalRecords ?? a.summary?.received ?? counts?.received ?? 0;
      const done = counts?.received ?? 0;
      const payload = {
        rate: (done / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(0),
        upserted: counts?.upserted ?? 0,
        rejected: counts?.rejected ?? 0,
        phase: a.progress?.waitingUntil ? `waiting until ${a.progress.waitingUntil}` : (a.phase ?? a.status),
      };
      if (!startedBar) {
        bar.start(Math.max(total, done, 1), done, payload);
        startedBar = true;
      } else {
        bar.setTotal(Math.max(total, done, 1));
        bar.update(done, payload);
      }
      if (isFinal(a.status)) return a;
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 1000));
    }
  } finally {
    if (startedBar) bar.stop();
  }
}
