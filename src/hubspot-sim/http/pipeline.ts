/**
 * The life of one HubSpot request: route → auth (401) → rate limits (429, nothing consumed; the burst
 * window is the token's app's) → budget consumed → scopes (403) → injected faults → silent no-op fault →
 * latency → handler. Every answer carries the correlation id; every authenticated answer except search's
 * carries the `X-HubSpot-RateLimit-*` headers. Stats record each answer with its route and API version.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { faultResponse } from '../faults';
import { errorBody, HsError, missingScopes, rateLimitBody, validationError } from '../hubspot-errors';
import type { HubSpotRoute, Reply, SimState } from '../routes/types';
import type { Portal, TokenRecord } from '../state/accounts';
import { parseJson, readBody, writeJson, writeRaw, BodyTooLarge } from './io';
import type { Lifecycle } from './lifecycle';
import type { Router } from './router';

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

export class HubSpotPipeline {
  constructor(
    private readonly state: SimState,
    private readonly router: Router<HubSpotRoute>,
    private readonly life: Lifecycle,
    private readonly logger?: Logger,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, correlationId: string): Promise<void> {
    const { stats, faults, accounts, settings } = this.state;
    const method = req.method ?? 'GET';
    const match = this.router.match(method, path);
    const routeKey = match ? `${method} ${match.route.pattern}` : `${method} (unmatched)`;
    const version = match ? (match.route.version ?? 'v3') : undefined;
    stats.enter();
    res.once('close', () => stats.leave());
    const headers: Record<string, string> = { 'X-HubSpot-Correlation-Id': correlationId };
    const answer = (status: number, body: unknown, extra?: Record<string, string>) => {
      stats.record(routeKey, status, version);
      writeJson(res, status, body, extra ? { ...headers, ...extra } : headers);
    };
    const fail = (err: HsError) => answer(err.status, errorBody(correlationId, err.category, err.message, err.extra), err.headers);

    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (e) {
      if (e instanceof BodyTooLarge) fail(new HsError(413, 'VALIDATION_ERROR', 'Request entity too large'));
      return;
    }
    if (!match) return fail(new HsError(404, 'OBJECT_NOT_FOUND', `Unable to route ${method} request to ${path}`));
    const route = match.route;
    const now = this.state.clock();

    let portal: Portal | undefined;
    let token: TokenRecord | undefined;
    if (route.auth === 'token') {
      try {
        token = accounts.authenticate(bearer(req.headers.authorization), now);
      } catch (e) {
        return fail(e as HsError);
      }
      portal = token.portal;
      const limiter = portal.limiter;
      // The burst limit applies per app unless the account is switched to share one window.
      const burstKey = portal.behaviour.burstScope === 'app' ? token.appId : 0;
      const rateHeaders = () => (route.noRateLimitHeaders ? {} : limiter.headers(now, burstKey));
      if (!route.unmetered) {
        stats.arrival(portal.portalId, now);
        const isSearch = Boolean(route.search);
        const exempt = Boolean(route.tenSecondlyExempt);
        const injected = faults.takeRateLimit(path);
        const rejection = injected
          ? { policy: 'TEN_SECONDLY_ROLLING' as const, retryAfterSec: 1 }
          : limiter.check(now, isSearch, burstKey, exempt);
        if (rejection) {
          stats.limited(portal.portalId, rejection.policy, injected);
          const h = rateHeaders();
          if (settings.retryAfter) h['Retry-After'] = String(rejection.retryAfterSec);
          return answer(429, rateLimitBody(correlationId, rejection.policy, portal.portalId), h);
        }
        stats.accepted(portal.portalId, limiter.consume(now, isSearch, burstKey, exempt));
      }
      Object.assign(headers, rateHeaders());
      if (route.scopes && !route.scopes.some((s) => token!.scopes.has(s))) return fail(missingScopes(route.scopes));
    }

    const action = faults.pick(path);
    if (action) {
      if (action.kind === 'reset') {
        stats.fault('resets');
        stats.record(routeKey, 'reset', version);
        req.socket.destroy();
        return;
      }
      if (action.kind === 'hang') {
        stats.fault('hangs');
        stats.record(routeKey, 'hang', version);
        this.life.hold(res);
        return;
      }
      stats.fault('errors');
      stats.record(routeKey, action.status, version);
      const r = faultResponse(action.status, correlationId);
      // Edge (HTML) errors come from before HubSpot's API tier: no rate-limit headers there.
      const base = r.json ? headers : { 'X-HubSpot-Correlation-Id': correlationId };
      writeRaw(res, action.status, r.body, { ...base, ...r.headers });
      return;
    }
    // A silent no-op: HubSpot answers 2xx with nothing in `results` and nothing is written.
    if (route.auth === 'token' && route.emptyAnswer && faults.takeEmptyResults(path)) {
      stats.fault('emptyResults');
      return answer(200, route.emptyAnswer(new Date(now).toISOString()));
    }
    const delay = faults.delayMs(path);
    if (delay > 0) {
      stats.fault('delayed');
      await this.life.sleep(delay);
      if (res.destroyed || this.life.closing) return;
    }

    const parsed = parseJson(raw);
    if (!parsed.ok) return fail(validationError(parsed.message));
    const base = {
      params: match.params,
      query,
      body: parsed.value,
      path,
      now,
      nowIso: new Date(now).toISOString(),
      baseUrl: `http://${req.headers.host ?? 'localhost'}`,
      state: this.state,
      version: version ?? 'v3',
    };
    let reply: Reply;
    try {
      reply = route.auth === 'token' ? route.handler({ ...base, portal: portal!, token: token! }) : route.handler(base);
    } catch (e) {
      if (e instanceof HsError) return fail(e);
      this.logger?.error({ err: e, route: routeKey }, 'hubspot-sim handler failed');
      return answer(500, errorBody(correlationId, 'INTERNAL_ERROR', 'Internal Error'));
    }
    if (route.auth === 'token' && route.writes && reply.status < 300) this.state.markDirty();
    answer(reply.status, reply.body, reply.headers);
  }
}
