/** The daily-limit helper both the page and the flush activities use: when the budget comes back. */
import { dailyResetTime, isDailyLimit, markDailyLimit } from '../../../activities/daily-limit';
import { DailyLimitHitError } from '../../../src/delivery/send-batch';
import { DailyBudgetExhaustedError, type RateGovernor } from '../../../src/governor/governor';
import type { HubSpotClient } from '../../../src/hubspot/client';
import { nextMidnightIn } from '../../../src/util/time-zone';

const usage = (resetsAt: string | undefined | Error) =>
  ({
    getDailyUsage: jest.fn(async () => {
      if (resetsAt instanceof Error) throw resetsAt;
      return resetsAt ? { resetsAt } : undefined;
    }),
  }) as unknown as HubSpotClient & { getDailyUsage: jest.Mock };

describe('daily limit', () => {
  it('knows both kinds of daily-limit error and nothing else', () => {
    expect(isDailyLimit(new DailyBudgetExhaustedError('portal:1'))).toBe(true);
    expect(isDailyLimit(new DailyLimitHitError('429 daily'))).toBe(true);
    expect(isDailyLimit(new Error('other'))).toBe(false);
  });

  it('trusts a known future reset without asking HubSpot', async () => {
    const client = usage(new Date(Date.now() + 60_000).toISOString());
    const known = Date.now() + 3_600_000;
    expect(await dailyResetTime(client, 'UTC', known)).toBe(known);
    expect(client.getDailyUsage).not.toHaveBeenCalled();
  });

  it("else asks HubSpot's usage endpoint", async () => {
    const at = new Date(Date.now() + 120_000).toISOString();
    expect(await dailyResetTime(usage(at), 'UTC')).toBe(Date.parse(at));
  });

  it("falls back to midnight in the portal's zone when HubSpot cannot tell", async () => {
    for (const client of [usage(new Error('down')), usage(undefined), usage(new Date(Date.now() - 1000).toISOString()), undefined]) {
      const before = nextMidnightIn('Europe/Berlin');
      const at = await dailyResetTime(client, 'Europe/Berlin', Date.now() - 1000);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(nextMidnightIn('Europe/Berlin'));
    }
  });

  it('marks the portal exhausted in the shared governor until the reset', async () => {
    const governor = { markDailyExhausted: jest.fn(async () => undefined) } as unknown as RateGovernor & { markDailyExhausted: jest.Mock };
    const known = Date.now() + 3_600_000;
    const at = await markDailyLimit(governor, new DailyBudgetExhaustedError('portal:7', known), undefined, {
      portalId: 7,
      timeZone: 'UTC',
    });
    expect(at).toBe(known);
    expect(governor.markDailyExhausted).toHaveBeenCalledWith('portal:7', known);
  });
});
