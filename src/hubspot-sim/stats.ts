/**
 * Request statistics for HubSpot routes only (admin routes are never counted): by route and status,
 * 429s by policy, per-portal peak 10-second load, and peak concurrency. All updates are O(1) amortized.
 */
import { SlidingMax } from './limits/time-window';
import type { PortalStats, RateLimitPolicy, StatsSnapshot } from './types';

interface PortalCounters {
  requests: number;
  arrivals: SlidingMax;
  maxAccepted: number;
  rateLimited: number;
}

export class Stats {
  private startedAt = new Date().toISOString();
  private total = 0;
  private byRoute = new Map<string, Map<string, number>>();
  private rateLimited: Record<RateLimitPolicy, number> = { TEN_SECONDLY_ROLLING: 0, DAILY: 0, SECONDLY: 0 };
  private faults = { errors: 0, hangs: 0, resets: 0, delayed: 0, injected429: 0, emptyResults: 0 };
  private byVersion = new Map<string, number>();
  private portals = new Map<number, PortalCounters>();
  inFlight = 0;
  private peak = 0;

  enter(): void {
    this.inFlight++;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
  }

  leave(): void {
    this.inFlight--;
  }

  /** One finished HubSpot request: `status` is the HTTP status, or `hang` / `reset`; `version` the API version of its path. */
  record(routeKey: string, status: number | string, version?: string): void {
    this.total++;
    if (version !== undefined) this.byVersion.set(version, (this.byVersion.get(version) ?? 0) + 1);
    let m = this.byRoute.get(routeKey);
    if (!m) this.byRoute.set(routeKey, (m = new Map()));
    const k = String(status);
    m.set(k, (m.get(k) ?? 0) + 1);
  }

  /** An authenticated request arrived for this portal (whatever its answer). */
  arrival(portalId: number, now: number): void {
    const p = this.portal(portalId);
    p.requests++;
    p.arrivals.record(now);
  }

  accepted(portalId: number, inWindow: number): void {
    const p = this.portal(portalId);
    if (inWindow > p.maxAccepted) p.maxAccepted = inWindow;
  }

  limited(portalId: number, policy: RateLimitPolicy, injected = false): void {
    this.rateLimited[policy]++;
    this.portal(portalId).rateLimited++;
    if (injected) this.faults.injected429++;
  }

  fault(kind: 'errors' | 'hangs' | 'resets' | 'delayed' | 'emptyResults'): void {
    this.faults[kind]++;
  }

  snapshot(): StatsSnapshot {
    const byRoute: Record<string, Record<string, number>> = {};
    for (const [route, m] of this.byRoute) byRoute[route] = Object.fromEntries(m);
    const portals: Record<string, PortalStats> = {};
    for (const [id, p] of this.portals) {
      portals[id] = { requests: p.requests, maxRequestsIn10s: p.arrivals.max, maxAcceptedIn10s: p.maxAccepted, rateLimited: p.rateLimited };
    }
    const cpu = process.cpuUsage();
    return {
      startedAt: this.startedAt,
      totalRequests: this.total,
      byRoute,
      rateLimited: { ...this.rateLimited },
      faults: { ...this.faults },
      byVersion: Object.fromEntries(this.byVersion),
      portals,
      inFlight: this.inFlight,
      peakConcurrency: this.peak,
      process: { cpuUserMs: Math.round(cpu.user / 1000), cpuSystemMs: Math.round(cpu.system / 1000), rssBytes: process.memoryUsage.rss() },
    };
  }

  /** Clears counters; requests in flight stay counted so `inFlight` never goes negative. */
  reset(): void {
    this.startedAt = new Date().toISOString();
    this.total = 0;
    this.byRoute = new Map();
    this.rateLimited = { TEN_SECONDLY_ROLLING: 0, DAILY: 0, SECONDLY: 0 };
    this.faults = { errors: 0, hangs: 0, resets: 0, delayed: 0, injected429: 0, emptyResults: 0 };
    this.byVersion = new Map();
    this.portals = new Map();
    this.peak = this.inFlight;
  }

  private portal(portalId: number): PortalCounters {
    let p = this.portals.get(portalId);
    if (!p) this.portals.set(portalId, (p = { requests: 0, arrivals: new SlidingMax(10_000), maxAccepted: 0, rateLimited: 0 }));
    return p;
  }
}
