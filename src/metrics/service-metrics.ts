/**
 * The service's own Prometheus metrics (prom-client). One registry per process; the worker serves it
 * with the Temporal SDK's metrics on METRICS_PORT (src/metrics/server.ts), the API on its `/metrics`.
 *
 * Labels are bounded and hold no personal data: HubSpot route *templates*, HTTP statuses, reason codes,
 * rate-limit policy names, event names and destination ids. Never emails, names, tokens or URLs.
 *
 * Who calls what:
 *  - HubSpot clients in the worker: `onHubSpotCall` (HubSpotClientOptions.onCall) and `onRateWait`
 *    (the governor's wait callback), wired in src/worker.ts through the activity deps.
 *  - Activities: `recordContacts(mode, counts)` after a page / flush succeeded.
 *  - Streaming: `recordStreamLag(destinationId, lagMs)` whenever the lag is known (see docs/operations.md).
 *  - Alerts: `recordAlertDelivery(event, outcome)` per delivery attempt (activities/alerts.ts).
 *  - API: `recordApiRequest(...)` from an onResponse hook (src/api/metrics.ts).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WaitInfo } from '../governor/governor';
import type { HubSpotCallEvent } from '../hubspot/client';

export const METRIC_PREFIX = 'hsd_';

/** Counts of a delivered page or stream flush: numbers and reason codes only. */
export interface ContactCounts {
  upserted?: number;
  rejected?: number;
  rejectedByReason?: Record<string, number>;
  skippedByReason?: Record<string, number>;
}

export type DeliveryMode = 'batch' | 'stream';
export type AlertOutcome = 'delivered' | 'retrying' | 'failed' | 'skipped';

export class ServiceMetrics {
  readonly registry: Registry;
  readonly contactsUpserted: Counter<'mode'>;
  readonly contactsRejected: Counter<'mode' | 'reason'>;
  readonly contactsSkipped: Counter<'mode' | 'reason'>;
  readonly hubspotRequests: Counter<'route' | 'method' | 'status'>;
  readonly hubspotRequestSeconds: Histogram<'route' | 'method'>;
  readonly hubspotRateLimited: Counter<'policy'>;
  readonly rateGovernorWaits: Counter<'reason'>;
  readonly rateGovernorWaitSeconds: Histogram<'reason'>;
  readonly streamLagSeconds: Gauge<'destination_id'>;
  readonly alertDeliveries: Counter<'event' | 'outcome'>;
  readonly apiRequests: Counter<'method' | 'route' | 'status'>;
  readonly apiRequestSeconds: Histogram<'method' | 'route'>;

  constructor(options: { registry?: Registry; defaultMetrics?: boolean } = {}) {
    const registers = [(this.registry = options.registry ?? new Registry())];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    const p = METRIC_PREFIX;
    this.contactsUpserted = new Counter({
      name: `${p}contacts_upserted_total`,
      help: 'Contacts created or updated in HubSpot',
      labelNames: ['mode'],
      registers,
    });
    this.contactsRejected = new Counter({
      name: `${p}contacts_rejected_total`,
      help: 'Members rejected (stored with their reason, can be re-sent)',
      labelNames: ['mode', 'reason'],
      registers,
    });
    this.contactsSkipped = new Counter({
      name: `${p}contacts_skipped_total`,
      help: 'Records skipped on purpose (e.g. not in the audience)',
      labelNames: ['mode', 'reason'],
      registers,
    });
    this.hubspotRequests = new Counter({
      name: `${p}hubspot_requests_total`,
      help: 'HubSpot API calls by route template, method and HTTP status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.hubspotRequestSeconds = new Histogram({
      name: `${p}hubspot_request_duration_seconds`,
      help: 'HubSpot API call latency',
      labelNames: ['route', 'method'],
      registers,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.hubspotRateLimited = new Counter({
      name: `${p}hubspot_rate_limited_total`,
      help: "HubSpot 429 answers by HubSpot's policy (TEN_SECONDLY_ROLLING, SECONDLY, DAILY, UNKNOWN)",
      labelNames: ['policy'],
      registers,
    });
    this.rateGovernorWaits = new Counter({
      name: `${p}rate_governor_waits_total`,
      help: "Times a call waited for the account's rate budget, by reason",
      labelNames: ['reason'],
      registers,
    });
    this.rateGovernorWaitSeconds = new Histogram({
      name: `${p}rate_governor_wait_seconds`,
      help: 'Time calls waited for the rate budget (per wait)',
      labelNames: ['reason'],
      registers,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    });
    this.streamLagSeconds = new Gauge({
      name: `${p}stream_lag_seconds`,
      help: 'Age of the oldest streamed update not yet sent, per destination',
      labelNames: ['destination_id'],
      registers,
    });
    this.alertDeliveries = new Counter({
      name: `${p}alert_deliveries_total`,
      help: 'Alert webhook delivery attempts by event and outcome (failed = gave up)',
      labelNames: ['event', 'outcome'],
      registers,
    });
    this.apiRequests = new Counter({
      name: `${p}api_requests_total`,
      help: 'API requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.apiRequestSeconds = new Histogram({
      name: `${p}api_request_duration_seconds`,
      help: 'API request latency',
      labelNames: ['method', 'route'],
      registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    });
  }

  /** `HubSpotClientOptions.onCall`: one HubSpot HTTP call finished. */
  readonly onHubSpotCall = (e: HubSpotCallEvent): void => {
    this.hubspotRequests.inc({ route: e.route, method: e.method, status: String(e.status) });
    this.hubspotRequestSeconds.observe({ route: e.route, method: e.method }, e.durationMs / 1000);
    if (e.status === 429) this.hubspotRateLimited.inc({ policy: e.policy ?? 'UNKNOWN' });
  };

  /** The rate governor's `onWait`: a call waits `waitMs` for the account's budget. */
  readonly onRateWait = (w: WaitInfo): void => {
    this.rateGovernorWaits.inc({ reason: w.reason });
    this.rateGovernorWaitSeconds.observe({ reason: w.reason }, w.waitMs / 1000);
  };

  /** After a page or stream flush succeeded (count once: at the activity's success, not per attempt). */
  recordContacts(mode: DeliveryMode, counts: ContactCounts): void {
    if (counts.upserted) this.contactsUpserted.inc({ mode }, counts.upserted);
    for (const [reason, n] of Object.entries(counts.rejectedByReason ?? {})) if (n) this.contactsRejected.inc({ mode, reason }, n);
    const byReason = Object.values(counts.rejectedByReason ?? {}).reduce((a, b) => a + b, 0);
    if (counts.rejected && counts.rejected > byReason) this.contactsRejected.inc({ mode, reason: 'UNKNOWN' }, counts.rejected - byReason);
    for (const [reason, n] of Object.entries(counts.skippedByReason ?? {})) if (n) this.contactsSkipped.inc({ mode, reason }, n);
  }

  /** Streaming lag of a destination (0 when nothing waits). Call from the worker or the API process. */
  recordStreamLag(destinationId: string, lagMs: number): void {
    this.streamLagSeconds.set({ destination_id: destinationId }, Math.max(0, lagMs) / 1000);
  }

  recordAlertDelivery(event: string, outcome: AlertOutcome): void {
    this.alertDeliveries.inc({ event, outcome });
  }

  recordApiRequest(method: string, route: string, status: number, seconds: number): void {
    this.apiRequests.inc({ method, route, status: String(status) });
    this.apiRequestSeconds.observe({ method, route }, seconds);
  }

  /** Prometheus text exposition of this registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

let processMetrics: ServiceMetrics | undefined;

/** The process-wide metrics (worker and API in one process, as under `npm start`, share them). */
export function serviceMetrics(): ServiceMetrics {
  processMetrics ??= new ServiceMetrics();
  return processMetrics;
}

/** Shorthand for the streaming engineer's call sites: the process-wide `recordStreamLag`. */
export function recordStreamLag(destinationId: string, lagMs: number): void {
  serviceMetrics().recordStreamLag(destinationId, lagMs);
}
