/**
 * API-process metrics: every request counted by method, route *pattern* (never the raw URL, which holds
 * ids) and status, with its latency; `GET /metrics` serves the process's registry in Prometheus format.
 * It needs the API key like every data route (Prometheus: `authorization: {credentials: <key>}`); the
 * worker's metrics server (METRICS_PORT) is separate (docs/operations.md#metrics).
 */
import type { FastifyInstance } from 'fastify';
import type { ServiceMetrics } from '../metrics/service-metrics';

export function registerApiMetrics(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.recordApiRequest(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics of this API process (the worker serves its own on METRICS_PORT)',
        produces: ['text/plain'],
      },
    },
    async (_req, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.metrics();
    },
  );
}
