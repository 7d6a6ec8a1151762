/** The simulator's demo account: created once, reused from the snapshot after a restart. */
import type { SimAdmin } from '../hubspot-sim';

export const DEMO_LABEL = 'demo';

export function ensureDemoAccount(admin: SimAdmin): { portalId: number; token: string } {
  const existing = admin.findAccountByLabel(DEMO_LABEL);
  if (existing) {
    const token = admin.activeToken(existing.portalId) ?? admin.addToken(existing.portalId).token;
    return { portalId: existing.portalId, token };
  }
  const created = admin.createAccount({ tier: 'pro', label: DEMO_LABEL });
  return { portalId: created.portalId, token: created.token };
}
