/**
 * Run-time fault injection for HubSpot routes: 5xx (JSON or edge HTML), hangs, connection resets,
 * latency with jitter, unexpected 429s, and silent no-ops (2xx with empty `results`, nothing done).
 * Scoped by path prefix; `{}` clears everything.
 */
import { createPrng } from '../util/prng';
import { AdminError } from './state/accounts';
import type { FaultConfig } from './types';

export type FaultAction = { kind: 'reset' } | { kind: 'hang' } | { kind: 'error'; status: number };

export const DEFAULT_ERROR_STATUSES = [500, 502, 503, 504];
export const SUPPORTED_ERROR_STATUSES = [423, 477, 500, 502, 503, 504, 521, 524];

const RATE_KEYS = ['errorRate', 'hangRate', 'resetRate', 'rate429Rate', 'emptyResultsRate'] as const;
const COUNT_KEYS = ['latencyMs', 'jitterMs', 'errorBurst', 'rateLimitBurst', 'searchIndexLagMs', 'seed', 'emptyResultsBurst'] as const;

export function validateFaults(input: unknown): FaultConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new AdminError(400, 'faults must be a JSON object');
  const raw = input as Record<string, unknown>;
  const out: FaultConfig = {};
  for (const k of Object.keys(raw)) {
    if (![...RATE_KEYS, ...COUNT_KEYS, 'routes', 'errorStatuses'].includes(k)) throw new AdminError(400, `Unknown fault setting "${k}"`);
  }
  for (const k of RATE_KEYS) {
    if (raw[k] === undefined) continue;
    const v = raw[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new AdminError(400, `${k} must be a number from 0 to 1`);
    out[k] = v;
  }
  for (const k of COUNT_KEYS) {
    if (raw[k] === undefined) continue;
    const v = raw[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new AdminError(400, `${k} must be a non-negative number`);
    out[k] = v;
  }
  if (raw.routes !== undefined) {
    if (!Array.isArray(raw.routes) || raw.routes.some((r) => typeof r !== 'string'))
      throw new AdminError(400, 'routes must be an array of path prefixes');
    out.routes = raw.routes as string[];
  }
  if (raw.errorStatuses !== undefined) {
    const s = raw.errorStatuses;
    if (!Array.isArray(s) || s.length === 0 || s.some((x) => !SUPPORTED_ERROR_STATUSES.includes(x as number))) {
      throw new AdminError(400, `errorStatuses must be a non-empty subset of ${SUPPORTED_ERROR_STATUSES.join(', ')}`);
    }
    out.errorStatuses = s as number[];
  }
  return out;
}

export class Faults {
  private config: FaultConfig = {};
  private random: () => number = Math.random;

  set(config: FaultConfig): void {
    this.config = { ...config };
    // A seed makes the sequence of injected faults reproducible (tests that count fault kinds).
    this.random = config.seed !== undefined ? createPrng(config.seed) : Math.random;
  }

  get(): FaultConfig {
    return { ...this.config };
  }

  get active(): boolean {
    return Object.keys(this.config).length > 0;
  }

  get searchIndexLagMs(): number {
    return this.config.searchIndexLagMs ?? 0;
  }

  applies(path: string): boolean {
    const routes = this.config.routes;
    if (!routes || routes.length === 0) return true;
    for (const r of routes) if (path.startsWith(r)) return true;
    return false;
  }

  /** Whether this request gets an unexpected 429 (burst counter first, then the rate). */
  takeRateLimit(path: string): boolean {
    const c = this.config;
    if (!c.rateLimitBurst && !c.rate429Rate) return false;
    if (!this.applies(path)) return false;
    if (c.rateLimitBurst && c.rateLimitBurst > 0) {
      c.rateLimitBurst--;
      return true;
    }
    return c.rate429Rate !== undefined && this.random() < c.rate429Rate;
  }

  pick(path: string): FaultAction | null {
    const c = this.config;
    if (!c.resetRate && !c.hangRate && !c.errorRate && !c.errorBurst) return null;
    if (!this.applies(path)) return null;
    if (c.errorBurst && c.errorBurst > 0) {
      c.errorBurst--;
      return { kind: 'error', status: this.errorStatus() };
    }
    if (c.resetRate && this.random() < c.resetRate) return { kind: 'reset' };
    if (c.hangRate && this.random() < c.hangRate) return { kind: 'hang' };
    if (c.errorRate && this.random() < c.errorRate) return { kind: 'error', status: this.errorStatus() };
    return null;
  }

  /**
   * Whether this request becomes a silent no-op (burst counter first, then the rate). Only asked for
   * routes that have an empty answer, so a burst is spent on them alone.
   */
  takeEmptyResults(path: string): boolean {
    const c = this.config;
    if (!c.emptyResultsBurst && !c.emptyResultsRate) return false;
    if (!this.applies(path)) return false;
    if (c.emptyResultsBurst && c.emptyResultsBurst > 0) {
      c.emptyResultsBurst--;
      return true;
    }
    return c.emptyResultsRate !== undefined && this.random() < c.emptyResultsRate;
  }

  delayMs(path: string): number {
    const c = this.config;
    if (!c.latencyMs && !c.jitterMs) return 0;
    if (!this.applies(path)) return 0;
    return (c.latencyMs ?? 0) + this.random() * (c.jitterMs ?? 0);
  }

  private errorStatus(): number {
    const list = this.config.errorStatuses ?? DEFAULT_ERROR_STATUSES;
    return list[Math.floor(this.random() * list.length)];
  }
}

const nginx = (status: number, text: string): string =>
  `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;

const cloudflare = (status: number, text: string): string =>
  `<!DOCTYPE html>\n<html lang="en-US">\n<head><title>api.hubapi.com | ${status}: ${text}</title></head>\n<body>\n<div id="cf-wrapper"><h1>${text}</h1><span class="cf-error-code">Error code ${status}</span>\n<p>Visit <a href="https://www.cloudflare.com/5xx-error-landing">cloudflare.com</a> for more information.</p></div>\n</body>\n</html>\n`;

/** The answer for an injected error: JSON from HubSpot's app tier, HTML from its edge (https://developers.hubspot.com/docs/api-reference/error-handling). */
export function faultResponse(status: number, correlationId: string): { headers: Record<string, string>; body: string; json: boolean } {
  const json = (message: string, category: string, headers: Record<string, string> = {}) => ({
    headers: { 'Content-Type': 'application/json;charset=utf-8', ...headers },
    body: JSON.stringify({ status: 'error', message, correlationId, category }),
    json: true,
  });
  const html = (body: string) => ({ headers: { 'Content-Type': 'text/html', Server: 'cloudflare' }, body, json: false });
  switch (status) {
    case 423:
      return json(
        'The object is locked by another request. Wait at least 2 seconds between requests that modify the same records.',
        'LOCKED',
      );
    case 477:
      return json('Migration in progress. Retry after the time given in the Retry-After header.', 'MIGRATION_IN_PROGRESS', {
        'Retry-After': '5',
      });
    case 500:
      return json('Internal Error', 'INTERNAL_ERROR');
    case 502:
      return html(nginx(502, 'Bad Gateway'));
    case 503:
      return json('Service Unavailable', 'SERVICE_UNAVAILABLE');
    case 504:
      return html(nginx(504, 'Gateway Time-out'));
    case 521:
      return html(cloudflare(521, 'Web server is down'));
    case 524:
      return html(cloudflare(524, 'A timeout occurred'));
    default:
      return json('Internal Error', 'INTERNAL_ERROR');
  }
}
