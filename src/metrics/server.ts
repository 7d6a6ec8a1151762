/**
 * The worker's metrics endpoint: `GET /metrics` on METRICS_HOST:METRICS_PORT answers the service's own
 * metrics (prom-client) followed by the Temporal SDK's worker metrics.
 *
 * The SDK's Prometheus exporter (Rust core) binds an address of its own, so the worker gives it a free
 * loopback port and this server fetches and appends its text on every scrape: one scrape target per
 * worker, whatever the number of replicas. Metric names cannot collide (`hsd_` vs `temporal_`).
 */
import http from 'node:http';
import net from 'node:net';
import type { ServiceMetrics } from './service-metrics';

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A free TCP port on the loopback interface (for the SDK exporter, which needs a fixed address). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}

/** Our registry, then the SDK's exposition (or a comment saying it is unavailable). */
export async function combinedMetrics(metrics: ServiceMetrics, sdkMetricsUrl?: string): Promise<string> {
  const own = await metrics.metrics();
  if (!sdkMetricsUrl) return own;
  try {
    const sdk = await fetchText(sdkMetricsUrl, 2000);
    return `${own.trimEnd()}\n${sdk.trimEnd()}\n`;
  } catch (err) {
    return `${own.trimEnd()}\n# Temporal SDK metrics unavailable: ${(err as Error).message.replace(/\s+/g, ' ')}\n`;
  }
}

export async function startMetricsServer(options: {
  host: string;
  port: number;
  metrics: ServiceMetrics;
  sdkMetricsUrl?: string;
}): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/healthz')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: GET /metrics\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    combinedMetrics(options.metrics, options.sdkMetricsUrl).then(
      (text) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
