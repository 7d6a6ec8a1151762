/**
 * The HTTP admin API under `/__sim`: no auth, never counted in HubSpot stats or rate limits, plain JSON
 * answers (`{status: "error", message}` on failure). Each route is a thin call into `SimAdmin`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { SimAdmin } from '../admin';
import { parseJson, readBody, writeJson } from '../http/io';
import { Router, type Routable } from '../http/router';
import { AdminError } from '../state/accounts';
import type { AccountBehaviour, CreateAccountOptions, FaultConfig, LimitsInput, SimSettings } from '../types';

interface AdminCtx {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  baseUrl: string;
}

interface AdminRoute extends Routable {
  handler(admin: SimAdmin, ctx: AdminCtx): Promise<{ status: number; body?: unknown }> | { status: number; body?: unknown };
}

const ok = (body?: unknown, status = 200) => ({ status, body });

function portalId(ctx: AdminCtx): number {
  const n = Number(ctx.params.portalId);
  if (!Number.isInteger(n)) throw new AdminError(400, 'portalId must be an integer');
  return n;
}

function object<T>(body: unknown): T {
  if (body === undefined) return {} as T;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AdminError(400, 'Body must be a JSON object');
  return body as T;
}

const routes: AdminRoute[] = [
  { method: 'GET', pattern: '/__sim/health', handler: () => ok({ ok: true }) },
  { method: 'POST', pattern: '/__sim/accounts', handler: (a, c) => ok(a.createAccount(object<CreateAccountOptions>(c.body)), 201) },
  { method: 'GET', pattern: '/__sim/accounts', handler: (a) => ok({ results: a.listAccounts() }) },
  { method: 'GET', pattern: '/__sim/accounts/:portalId', handler: (a, c) => ok(a.getAccount(portalId(c))) },
  {
    method: 'POST',
    pattern: '/__sim/accounts/:portalId/tokens',
    handler: (a, c) => ok(a.addToken(portalId(c), object(c.body)), 201),
  },
  {
    method: 'POST',
    pattern: '/__sim/accounts/:portalId/tokens/:token/revoke',
    handler: (a, c) => {
      a.revokeToken(portalId(c), c.params.token);
      return ok({ revoked: true });
    },
  },
  {
    method: 'POST',
    pattern: '/__sim/accounts/:portalId/tokens/:token/expire',
    handler: (a, c) => {
      a.expireToken(portalId(c), c.params.token, object<{ at?: string }>(c.body).at);
      return ok({ expired: true });
    },
  },
  {
    method: 'POST',
    pattern: '/__sim/accounts/:portalId/tokens/:token/rotate',
    handler: (a, c) => ok(a.rotateToken(portalId(c), c.params.token)),
  },
  {
    method: 'GET',
    pattern: '/__sim/accounts/:portalId/contacts',
    handler: (a, c) => {
      const id = portalId(c);
      const email = c.query.get('email');
      if (email !== null) {
        const contact = a.getContact(id, email);
        return ok({ results: contact ? [contact] : [] });
      }
      const limit = c.query.get('limit');
      return ok(
        a.listContacts(
          id,
          { limit: limit === null ? undefined : Number(limit), after: c.query.get('after') ?? undefined },
          `${c.baseUrl}/__sim/accounts/${id}/contacts`,
        ),
      );
    },
  },
  { method: 'GET', pattern: '/__sim/accounts/:portalId/contacts/count', handler: (a, c) => ok({ count: a.contactCount(portalId(c)) }) },
  {
    method: 'GET',
    pattern: '/__sim/accounts/:portalId/properties',
    handler: (a, c) => ok({ results: a.listProperties(portalId(c), { archived: c.query.get('archived') === 'true' }) }),
  },
  { method: 'GET', pattern: '/__sim/accounts/:portalId/behaviour', handler: (a, c) => ok(a.getBehaviour(portalId(c))) },
  {
    method: 'PUT',
    pattern: '/__sim/accounts/:portalId/behaviour',
    handler: (a, c) => ok(a.setBehaviour(portalId(c), object<Partial<AccountBehaviour>>(c.body))),
  },
  { method: 'GET', pattern: '/__sim/accounts/:portalId/limits', handler: (a, c) => ok(a.getLimits(portalId(c))) },
  {
    method: 'PUT',
    pattern: '/__sim/accounts/:portalId/limits',
    handler: (a, c) => ok(a.setLimits(portalId(c), object<LimitsInput>(c.body))),
  },
  { method: 'GET', pattern: '/__sim/faults', handler: (a) => ok(a.getFaults()) },
  { method: 'PUT', pattern: '/__sim/faults', handler: (a, c) => ok(a.setFaults(object<FaultConfig>(c.body))) },
  {
    method: 'DELETE',
    pattern: '/__sim/faults',
    handler: (a) => {
      a.clearFaults();
      return ok(undefined, 204);
    },
  },
  { method: 'GET', pattern: '/__sim/settings', handler: (a) => ok(a.getSettings()) },
  { method: 'PUT', pattern: '/__sim/settings', handler: (a, c) => ok(a.setSettings(object<Partial<SimSettings>>(c.body))) },
  { method: 'GET', pattern: '/__sim/stats', handler: (a) => ok(a.stats()) },
  {
    method: 'DELETE',
    pattern: '/__sim/stats',
    handler: (a) => {
      a.resetStats();
      return ok(undefined, 204);
    },
  },
  {
    method: 'POST',
    pattern: '/__sim/reset',
    handler: (a) => {
      a.reset();
      return ok(undefined, 204);
    },
  },
  {
    method: 'POST',
    pattern: '/__sim/snapshot',
    handler: async (a) => {
      await a.saveSnapshot();
      return ok({ saved: true });
    },
  },
];

export class AdminHttp {
  private readonly router = new Router<AdminRoute>();

  constructor(
    private readonly admin: SimAdmin,
    private readonly logger?: Logger,
  ) {
    for (const r of routes) this.router.add(r);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, correlationId: string): Promise<void> {
    const headers = { 'X-HubSpot-Correlation-Id': correlationId };
    const fail = (status: number, message: string) => writeJson(res, status, { status: 'error', message }, { ...headers });
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch {
      return fail(413, 'Request body too large');
    }
    const match = this.router.match(req.method ?? 'GET', path);
    if (!match) return fail(404, `No admin route ${req.method ?? 'GET'} ${path}`);
    const parsed = parseJson(raw);
    if (!parsed.ok) return fail(400, parsed.message);
    try {
      const out = await match.route.handler(this.admin, {
        params: match.params,
        query,
        body: parsed.value,
        baseUrl: `http://${req.headers.host ?? 'localhost'}`,
      });
      writeJson(res, out.status, out.body, { ...headers });
    } catch (e) {
      if (e instanceof AdminError) return fail(e.status, e.message);
      this.logger?.error({ err: e }, 'hubspot-sim admin route failed');
      fail(500, 'Internal simulator error');
    }
  }
}
