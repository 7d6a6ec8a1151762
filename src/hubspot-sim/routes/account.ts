/** Account info (HubSpot/HubSpot-public-api-spec-collection, PublicApiSpecs/Account/Account Info/.../accountInfo.json) and private-app token introspection (https://developers.hubspot.com/docs/api/private-apps). */
import { formatOffset, utcOffsetMs } from '../limits/timezone';
import { asObject } from '../state/properties';
import type { AuthedContext, BaseContext, HubSpotRoute, Reply } from './types';
import { accountInfoBase, API_VERSIONS } from './versions';

function details(ctx: AuthedContext): Reply {
  const offset = utcOffsetMs(ctx.portal.timeZone, ctx.now);
  const body: Record<string, unknown> = {
    portalId: ctx.portal.portalId,
    accountType: 'STANDARD',
    timeZone: ctx.portal.timeZone,
    companyCurrency: 'USD',
    additionalCurrencies: [],
    utcOffset: formatOffset(offset),
    utcOffsetMilliseconds: offset,
    uiDomain: 'app.hubspot.com',
    dataHostingLocation: 'na1',
  };
  // 2026-09's PortalInformationResponseSeptember2026 adds portalName and createdAt (epoch ms)
  // (PublicApiSpecs/Account/Account Info/Rollouts/318954/2026-09/accountInfo.json).
  if (ctx.version === '2026-09') {
    body.portalName = ctx.portal.label ?? `Simulated portal ${ctx.portal.portalId}`;
    body.createdAt = Date.parse(ctx.portal.createdAt);
  }
  return { status: 200, body };
}

function dailyUsage(ctx: AuthedContext): Reply {
  const info = ctx.portal.limiter.info(ctx.now);
  return {
    status: 200,
    body: {
      results: [
        {
          name: 'private-apps-api-calls-daily',
          usageLimit: info.daily,
          currentUsage: info.dailyUsed,
          collectedAt: ctx.nowIso,
          fetchStatus: 'SUCCESS',
          resetsAt: info.dailyResetsAt,
        },
      ],
    },
  };
}

/** `{tokenKey}` → `{userId, hubId, appId, scopes}`; unknown or revoked keys get the 401 body. */
function tokenInfo(ctx: BaseContext): Reply {
  const body = ctx.body === undefined ? {} : asObject(ctx.body);
  const rec = ctx.state.accounts.authenticate(typeof body.tokenKey === 'string' ? body.tokenKey : undefined, ctx.now);
  return { status: 200, body: { userId: rec.portal.userId, hubId: rec.portal.portalId, appId: rec.appId, scopes: [...rec.scopes] } };
}

export function accountRoutes(): HubSpotRoute[] {
  // Both need HubSpot's `oauth` scope, which every private app has; no scope check here.
  return [
    ...API_VERSIONS.flatMap((version): HubSpotRoute[] => [
      { method: 'GET', pattern: `${accountInfoBase(version)}/details`, version, auth: 'token', handler: details },
      // Usage monitoring must work when the budget is gone (that is when clients ask for `resetsAt`).
      {
        method: 'GET',
        pattern: `${accountInfoBase(version)}/api-usage/daily/private-apps`,
        version,
        auth: 'token',
        unmetered: true,
        handler: dailyUsage,
      },
    ]),
    { method: 'POST', pattern: '/oauth/v2/private-apps/get/access-token-info', auth: 'none', handler: tokenInfo },
  ];
}
