/** What every route module of the API receives: its dependencies and the typed fastify instance. */
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ServiceMetrics } from '../metrics/service-metrics';
import type { Services } from '../runtime/services';
import type { StreamTargets } from './stream-targets';

export interface ApiDeps {
  config: Config;
  client: Client;
  services: Services;
  logger: Logger;
  /** The codec the codec server uses; default: the configured codec keys. */
  codec?: PayloadCodec;
  /** Prometheus metrics of this process; default: the process-wide registry. */
  metrics?: ServiceMetrics;
  /** Destinations as the streaming route reduces updates with them (cached 1 s; buildApi makes one). */
  streamTargets?: StreamTargets;
}

export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;
