/**
 * Who may use the codec server without an API key, and its CORS headers.
 *
 * The Temporal Web UI calls the codec server from the browser and cannot attach our API key (the dev
 * server's UI has no login to take a token from). So, for the local dev stack only, a request passes
 * without a key when all of these hold:
 *  - the operator turned it on: CODEC_ALLOW_KEYLESS_UI_ORIGIN=true (`npm start` does for its own
 *    loopback dev UI, and says so), and CODEC_REQUIRE_API_KEY is not set;
 *  - the API listens on a loopback address and the configured UI URL is a loopback URL;
 *  - the request comes from a loopback address and its Origin is exactly the configured UI origin.
 * Anyone who can do that can already open the (unauthenticated) local UI, so this grants nothing new.
 * Everywhere else (CLI `--codec-auth`, a UI behind a proxy that adds the header) the API key is needed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config';

export const CODEC_ALLOWED_HEADERS = 'X-Namespace, Content-Type, Authorization';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
  );
}

export function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}

/** The Web UI origin the codec server answers (CORS), from TEMPORAL_UI_URL. */
export function webUiOrigin(config: Config): string | undefined {
  return originOf(config.temporal.uiUrl);
}

/**
 * The request's Origin if it is the Web UI's. A loopback UI matches under any loopback name on the same
 * scheme and port (the same local UI opened as localhost or 127.0.0.1).
 */
export function uiOriginOf(req: FastifyRequest, config: Config): string | undefined {
  const ui = webUiOrigin(config);
  const origin = req.headers.origin;
  if (!ui || !origin) return undefined;
  if (origin === ui) return origin;
  const a = new URL(ui);
  let b: URL;
  try {
    b = new URL(origin);
  } catch {
    return undefined;
  }
  const same = isLoopbackHost(a.hostname) && isLoopbackHost(b.hostname) && a.protocol === b.protocol && a.port === b.port;
  return same ? b.origin : undefined;
}

export function isLocalWebUiRequest(req: FastifyRequest, config: Config): boolean {
  if (!config.secrets.codecAllowKeylessUiOrigin || config.secrets.codecRequireApiKey) return false;
  const origin = uiOriginOf(req, config);
  if (!origin || !isLoopbackHost(new URL(origin).hostname) || !isLoopbackHost(config.api.host)) return false;
  return isLoopbackHost(req.socket.remoteAddress ?? '');
}

/** CORS headers for the Web UI origin only; other origins get none, so browsers refuse their reads. */
export function setCodecCors(req: FastifyRequest, reply: FastifyReply, config: Config): void {
  reply.header('Vary', 'Origin');
  const ui = uiOriginOf(req, config);
  if (!ui) return;
  reply.header('Access-Control-Allow-Origin', ui);
  reply.header('Access-Control-Allow-Credentials', 'true');
  reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
  reply.header('Access-Control-Allow-Headers', CODEC_ALLOWED_HEADERS);
  reply.header('Access-Control-Max-Age', '600');
}
