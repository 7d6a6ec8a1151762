/**
 * The rejection guard (docs/safe-runs.md): once at least `minRecords` members were read, a rejected share
 * above `maxRejectedPercent` stops the run. Pure: the page activity feeds it the run's counts so far.
 */
import type { DeliveryCounts } from './counts';

export interface GuardBound {
  maxRejectedPercent: number;
  minRecords: number;
}

type Judged = Pick<DeliveryCounts, 'received' | 'rejected' | 'rejectedByReason'>;

/** Adds the run's counts before this activity to the ones since (reason codes merged). */
export function guardCounts(...parts: Judged[]): Judged {
  const out: Judged = { received: 0, rejected: 0, rejectedByReason: {} };
  for (const p of parts) {
    out.received += p.received;
    out.rejected += p.rejected;
    for (const [k, v] of Object.entries(p.rejectedByReason)) out.rejectedByReason[k] = (out.rejectedByReason[k] ?? 0) + v;
  }
  return out;
}

/** The failure message when the bound is passed (figures and the top three reasons), else undefined. */
export function guardVerdict(c: Judged, bound: GuardBound): string | undefined {
  if (c.received === 0 || c.received < bound.minRecords) return undefined;
  const share = (c.rejected * 100) / c.received;
  if (share <= bound.maxRejectedPercent) return undefined;
  const top = Object.entries(c.rejectedByReason)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  return (
    `Stopped by the rejection guard: ${c.rejected} of the ${c.received} members read so far were rejected (${share.toFixed(1)}%), ` +
    `more than maxRejectedPercent ${bound.maxRejectedPercent}%. Top reasons: ${top}. No batch was started after this; ` +
    `the rejections are stored (GET /v1/activations/:id/rejections). Fix the cause, then re-run with {"mode": "rejected"} and re-run the rest.`
  );
}
