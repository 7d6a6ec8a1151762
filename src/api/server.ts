/**
 * The client API: a thin layer of zod validation over the Temporal client (and reads of the shared
 * store). It never calls HubSpot: checks and HubSpot reads run as workflows on the workers.
 * Errors are JSON `{error: {code, message, details}}`; bad input is 4xx, never 500.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError } from '../errors';
import { Failure, type KnownFailure } from '../failures';
import { ensureApiKey, loadApiKeys } from '../secrets/api-keys';
import { createCodec } from '../temporal/data-converter';
import type { ApiDeps } from './app-types';
import { registerAuth } from './auth';
import { unsupportedMediaType } from './media-types';
import { registerCodecCors, registerCodecRoutes } from './routes/codec';
import { registerActivationRoutes } from './routes/activations';
import { registerDestinationRoutes } from './routes/destinations';
import { registerUploadRoutes } from './routes/uploads';
import { registerStreamRoutes } from './routes/stream';
import { registerAlertRoutes } from './routes/alerts';
import { registerConnectionRoutes } from './routes/connections';
import { registerSyncRoutes } from './routes/syncs';
import { registerApiMetrics } from './metrics';
import { StreamTargets } from './stream-targets';
import { serviceMetrics } from '../metrics/service-metrics';

export type { ApiDeps, TypedApp } from './app-types';
export type Api = FastifyInstance;

/** The documented error body of one failure of the vocabulary. */
function errorBody(failure: KnownFailure, message: string) {
  return new AppError(failure, message).toJSON();
}

const MAX_ID_LENGTH = 200;

const clientError = (message: string, code: string) => Object.assign(new Error(message), { statusCode: 400, code });

/**
 * JSON bodies: parse errors never quote the body (it may hold personal data), and keys that could
 * poison prototypes (`__proto__`, `constructor.prototype`) are refused with a message that says so.
 */
function registerJsonParser(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      return done(clientError("Body cannot be empty when content-type is set to 'application/json'.", 'FST_ERR_CTP_EMPTY_JSON_BODY'));
    }
    let forbidden: string | undefined;
    const check = text.includes('__proto__') || text.includes('prototype');
    try {
      const value: unknown = check
        ? JSON.parse(text, function (this: unknown, key: string, v: unknown) {
            if (key === '__proto__') forbidden ??= '__proto__';
            if (key === 'constructor' && v !== null && typeof v === 'object' && Object.hasOwn(v, 'prototype'))
              forbidden ??= 'constructor.prototype';
            return v;
          })
        : JSON.parse(text);
      if (forbidden) {
        return done(
          clientError(`The body has a key '${forbidden}', which this API does not accept; rename or remove it.`, 'FORBIDDEN_KEY'),
        );
      }
      done(null, value);
    } catch {
      done(clientError("Body is not valid JSON but content-type is set to 'application/json'.", 'FST_ERR_CTP_INVALID_JSON_BODY'));
    }
  });
}

/** The matched route pattern (`/v1/activations/:id`), never the raw URL; unmatched paths are not logged. */
function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? '(no route)';
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger, // eslint-disable-line @typescript-eslint/no-unnecessary-type-assertion -- widens pino's Logger to the type the route modules use
    bodyLimit: deps.config.api.maxBodyBytes,
    requestIdHeader: false,
    // Fastify's own request logs carry the full URL (query strings with `?api_key=`, upload file names)
    // and the client address: ours below carry method, route pattern, status and timing only.
    logController: new LogController({ disableRequestLogging: true }),
    // Ids are up to 200 characters in every schema; longer path parameters are a 414 in our error shape.
    routerOptions: { maxParamLength: MAX_ID_LENGTH },
    frameworkErrors: (err, _req, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        void reply
          .status(414)
          .send(errorBody(Failure.UriTooLong, `A path parameter is longer than the ${MAX_ID_LENGTH} characters ids may have.`));
        return;
      }
      void reply.status(400).send(errorBody(Failure.BadRequest, 'The request URL is not valid.'));
    },
    // Raised by Node's HTTP parser before fastify sees a request (431 for oversized headers): answer in our shape.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
      const [status, body] =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? [
              '431 Request Header Fields Too Large',
              errorBody(Failure.HeadersTooLarge, 'The request headers are larger than this API accepts (16 KiB in all).'),
            ]
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? ['408 Request Timeout', errorBody(Failure.RequestTimeout, 'The request took too long to arrive.')]
            : ['400 Bad Request', errorBody(Failure.BadRequest, 'The request is not valid HTTP.')];
      const text = JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    },
  });
  registerJsonParser(app, deps.config.api.maxBodyBytes);
  app.addHook('onRequest', async (req) => {
    req.log.info({ method: req.method, route: routeOf(req) }, 'incoming request');
  });
  app.addHook('onResponse', async (req, reply) => {
    const responseTime = Math.round(reply.elapsedTime * 10) / 10;
    req.log.info({ method: req.method, route: routeOf(req), statusCode: reply.statusCode, responseTime }, 'request completed');
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
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.statusCode === 415) {
      return reply.status(415).send(errorBody(Failure.UnsupportedMediaType, unsupportedMediaType(req)));
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
  deps = { ...deps, streamTargets: deps.streamTargets ?? new StreamTargets(deps.services.destinations) };
  registerDestinationRoutes(typed, deps);
  registerActivationRoutes(typed, deps);
  registerUploadRoutes(typed, deps);
  registerStreamRoutes(typed, deps);
  registerAlertRoutes(typed, deps);
  registerConnectionRoutes(typed, deps);
  registerSyncRoutes(typed, deps);
  registerCodecRoutes(typed, { config: deps.config, codec: deps.codec ?? createCodec(deps.config) });
  return app;
}
