/**
 * Rate limits by HubSpot tier for private apps (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines). Professional's daily figure conflicts
 * between the usage guidelines (625,000) and the 2024 changelog (650,000), so it can be overridden.
 */
import type { Tier } from '../types';

export interface TierLimits {
  tenSecondly: number;
  daily: number;
}

export const DEFAULT_TIER_LIMITS: Record<Tier, TierLimits> = {
  free: { tenSecondly: 100, daily: 250_000 },
  starter: { tenSecondly: 100, daily: 250_000 },
  pro: { tenSecondly: 190, daily: 625_000 },
  enterprise: { tenSecondly: 190, daily: 1_000_000 },
};

/** An API limit increase pack lifts the burst to 250/10 s (packs do not stack) and adds 1M/day each. */
export const ADD_ON_TEN_SECONDLY = 250;
export const ADD_ON_DAILY = 1_000_000;
export const MAX_ADD_ON_PACKS = 2;

export const TIERS: readonly Tier[] = ['free', 'starter', 'pro', 'enterprise'];

export function limitsFor(tier: Tier, packs: number, overrides?: Partial<Record<Tier, Partial<TierLimits>>>): TierLimits {
  const base = { ...DEFAULT_TIER_LIMITS[tier], ...(overrides?.[tier] ?? {}) };
  if (packs <= 0) return base;
  return { tenSecondly: ADD_ON_TEN_SECONDLY, daily: base.daily + ADD_ON_DAILY * packs };
}

export function normalisePacks(apiAddOn: boolean | number | undefined): number {
  if (apiAddOn === true) return 1;
  if (typeof apiAddOn === 'number' && Number.isFinite(apiAddOn)) return Math.max(0, Math.min(MAX_ADD_ON_PACKS, Math.floor(apiAddOn)));
  return 0;
}
