/**
 * HubSpot's daily API limit, as both the page and the flush activities meet it: the local governor's
 * budget is used up, or HubSpot answered with its daily-limit 429. Either way nothing can be sent until
 * HubSpot's reset; this works out when that is and tells the shared governor, so every worker waits.
 */
import { DailyLimitHitError } from '../src/delivery/send-batch';
import { DailyBudgetExhaustedError, type RateGovernor } from '../src/governor/governor';
import type { HubSpotClient } from '../src/hubspot/client';
import { nextMidnightIn } from '../src/util/time-zone';
import { accountKeyOf } from './hubspot-access';

export function isDailyLimit(err: unknown): err is DailyBudgetExhaustedError | DailyLimitHitError {
  return err instanceof DailyBudgetExhaustedError || err instanceof DailyLimitHitError;
}

/** When does the account's daily budget come back? A known future time; else HubSpot's usage endpoint; else local midnight. */
export async function dailyResetTime(client: HubSpotClient | undefined, timeZone: string, known?: number): Promise<number> {
  if (known && known > Date.now()) return known;
  try {
    const usage = await client?.getDailyUsage();
    const at = usage?.resetsAt ? Date.parse(usage.resetsAt) : NaN;
    if (Number.isFinite(at) && at > Date.now()) return at;
  } catch {
    // The usage endpoint is a nicety; midnight in the portal's zone is HubSpot's documented rule.
  }
  return nextMidnightIn(timeZone);
}

/** Marks the portal's budget exhausted until its reset (shared by all workers) and returns the reset time. */
export async function markDailyLimit(
  governor: RateGovernor,
  err: DailyBudgetExhaustedError | DailyLimitHitError,
  client: HubSpotClient | undefined,
  portal: { portalId: number; timeZone: string },
): Promise<number> {
  const known = err instanceof DailyBudgetExhaustedError ? err.resetsAt : undefined;
  const resetsAt = await dailyResetTime(client, portal.timeZone, known);
  await governor.markDailyExhausted(accountKeyOf(portal.portalId), resetsAt);
  return resetsAt;
}
