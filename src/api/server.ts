/**
 * The client API: a thin layer of zod validation over the Temporal client (and reads of the shared
 * store). It never calls HubSpot: checks and HubSpot reads run as workflows on the workers.
 * Errors are JSON `{error: {code, message, details}}`; bad input is 4xx, never 500.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config';
import { AppError } from '../errors';
import { Failure } from '../failures';
import type { Logger } from '../logger';
import type { Services } from '../runtime/services';
import { ensureApiKey, loadApiKeys } from '../secrets/api-keys';
import { createCodec } from '../temporal/data-converter';
import { registerAuth } from './auth';
import { registerCodecCors, registerCodecRoutes } from './routes/codec';
import { registerActivationRoutes } from './routes/activations';
import { registerDestinationRoutes } from './routes/destinations';
import { registerUploadRoutes } from './routes/uploads';
import { registerStreamRoutes } from './routes/stream';
import { registerAlertRoutes } from './routes/alerts';
import { registerApiMetrics } from './metrics';
import { serviceMetrics, type ServiceMetrics } from '../metrics/service-metrics';

export interface ApiDeps {
  config: Config;
  client: Client;
  services: Services;
  logger: Logger;
  /** The codec the codec server uses; default: the configured codec keys. */
  codec?: PayloadCodec;
  /** Prometheus metrics of this process; default: the process-wide registry. */
  metrics?: ServiceMetrics;
}

export type Api = FastifyInstance;

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger, // eslint-disable-line @typescript-eslint/no-unnecessary-type-assertion -- widens pino's Logger to the type the route modules use
    bodyLimit: deps.config.api.maxBodyBytes,
    // Request logs carry method, route and status only (no bodies, no headers).
    requestIdHeader: false,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'HubSpot audience destination API',
        version: '1',
        description:
          'Connect HubSpot accounts, map fields, activate audiences and stream profile updates. Every route except /healthz needs `Authorization: Bearer <API key>`.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    if (err instanceof AppError) return reply.status(err.status).send(err.toJSON());
    const fe = err as FastifyError & { validation?: unknown };
    // Fastify's own errors, as the failures they are.
    const send = (e: AppError) => reply.status(e.status).send(e.toJSON());
    if (fe.validation || fe.code === 'FST_ERR_VALIDATION') {
      return send(new AppError(Failure.ValidationFailed, `Invalid request: ${fe.message}`, { details: fe.validation }));
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe.statusCode === 413) {
      return send(
        new AppError(Failure.PayloadTooLarge, `The request body is larger than this API accepts (${deps.config.api.maxBodyBytes} bytes).`),
      );
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return send(new AppError(Failure.BadRequest, fe.message, { status: fe.statusCode }));
    }
    req.log.error({ err: { name: err.name, message: err.message } }, 'unhandled API error');
    return send(new AppError(Failure.Internal, 'Internal error; see the API logs.'));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(new AppError(Failure.NotFound, `No route ${req.method} ${req.url.split('?')[0]}.`).toJSON()),
  );

  // Before any route: CORS for the Web UI on /codec/*, then the API key check (docs/security.md).
  registerCodecCors(app, deps.config);
  const apiKeys = loadApiKeys(deps.config);
  registerAuth(app, { config: deps.config, keys: apiKeys.length ? apiKeys : [ensureApiKey(deps.config)] });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerApiMetrics(app, deps.metrics ?? serviceMetrics());

  const typed = app.withTypeProvider<ZodTypeProvider>();
  registerDestinationRoutes(typed, deps);
  registerActivationRoutes(typed, deps);
  registerUploadRoutes(typed, deps);
  registerStreamRoutes(typed, deps);
  registerAlertRoutes(typed, deps);
  registerCodecRoutes(typed, { config: deps.config, codec: deps.codec ?? createCodec(deps.config) });
  return app;
}

export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;
