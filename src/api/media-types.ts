/** Which body a route takes, in words for a 415 answer. */
import type { FastifyRequest } from 'fastify';

/** What a body of the wrong type should have been, in words. */
export function unsupportedMediaType(req: FastifyRequest): string {
  const got = (req.headers['content-type'] ?? '').split(';')[0].trim() || 'none';
  return req.routeOptions.url === '/v1/uploads'
    ? `Send the file as the raw body with Content-Type text/csv or application/x-ndjson (got '${got}').`
    : `This route takes a JSON body: send it with Content-Type application/json (got '${got}').`;
}
