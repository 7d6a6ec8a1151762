/**
 * API authentication: every route except the public ones needs `Authorization: Bearer <API key>`.
 * 401 when the header is missing or malformed, 403 when the key is wrong. Keys are compared as SHA-256
 * digests with `timingSafeEqual` against every configured key, so timing reveals neither a key nor
 * which key matched.
 *
 * Public: /healthz, and the API description (/docs, /openapi.json): it holds no data, and Swagger UI
 * needs it to offer "Authorize". CORS preflights of the codec server carry no credentials by design.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config';
import { AppError } from '../errors';
import { isLocalWebUiRequest } from './codec-access';

const PUBLIC_ROUTES = new Set(['/healthz', '/openapi.json', '/docs']);

/** Decided on the matched route pattern, not the raw URL, so `/docs/../v1/...` tricks cannot match. */
function isPublic(route: string | undefined, method: string): boolean {
  if (!route) return false; // no route: 401 before 404, so unknown paths reveal nothing
  if (PUBLIC_ROUTES.has(route) || route.startsWith('/docs/')) return true;
  return method === 'OPTIONS' && route.startsWith('/codec/');
}

const digest = (s: string): Buffer => crypto.createHash('sha256').update(s, 'utf8').digest();

/** Returns a checker that compares a presented key with every accepted key in constant time. */
export function createKeyChecker(keys: string[]): (presented: string) => boolean {
  const digests = keys.map(digest);
  return (presented) => {
    const d = digest(presented);
    let ok = false;
    for (const k of digests) ok = crypto.timingSafeEqual(d, k) || ok; // no early exit
    return ok;
  };
}

/** The bearer credential of a request: a string, 'missing', or 'malformed'. */
export function bearerOf(header: string | undefined): { key: string } | 'missing' | 'malformed' {
  if (!header) return 'missing';
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m ? { key: m[1] } : 'malformed';
}

export function registerAuth(app: FastifyInstance, options: { config: Config; keys: string[] }): void {
  if (!options.keys.length) {
    throw new AppError(
      'INTERNAL',
      `The API has no API key: set API_KEYS or put a key in ${options.config.api.keyFile} (npm start and npm run api create one).`,
    );
  }
  const check = createKeyChecker(options.keys);
  // Where to find the key, without this machine's paths (answers go to anyone who can reach the API).
  const keyHint = options.config.api.keys.length
    ? 'one of API_KEYS'
    : 'the key in the API key file (API_KEY_FILE, default DATA_DIR/api-key; npm start prints it)';

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const route = req.routeOptions.url;
    if (isPublic(route, req.method)) return;
    const bearer = bearerOf(req.headers.authorization);
    if (bearer === 'missing' && route?.startsWith('/codec/') && isLocalWebUiRequest(req, options.config)) return;
    if (bearer === 'missing' || bearer === 'malformed') {
      reply.header('WWW-Authenticate', 'Bearer');
      const message =
        bearer === 'missing'
          ? `This route needs an API key: send 'Authorization: Bearer <API key>' (${keyHint}).`
          : `The Authorization header must be 'Bearer <API key>' (${keyHint}).`;
      throw new AppError('UNAUTHENTICATED', message);
    }
    if (!check(bearer.key)) throw new AppError('FORBIDDEN', `The API key is not valid; use ${keyHint}.`);
  });
}
