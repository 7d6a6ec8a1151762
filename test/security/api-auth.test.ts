/**
 * API authentication and the codec server, on the real API (fastify inject) over a real store. Nothing
 * here reaches Temporal: the routes exercised answer from the store, or refuse before any Temporal call.
 */
import fs from 'node:fs';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { buildApi, type Api } from '../../src/api/server';
import { createKeyChecker, bearerOf } from '../../src/api/auth';
import { toJsonPayload, fromJsonPayload } from '../../src/api/routes/codec';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createServices, type Services } from '../../src/runtime/services';
import { ensureApiKey, ensureApiKeyDetailed, generateApiKey, loadApiKeys } from '../../src/secrets/api-keys';
import { ensureKeys } from '../../src/secrets/local-keys';
import { parseKeyringValue, rotateKeyring } from '../../src/secrets/keyring';
import { ENCODING_ENCRYPTED, EncryptionCodec } from '../../src/temporal/codec';
import { createCodec } from '../../src/temporal/data-converter';
import { tempDir } from '../helpers/stack';

const KEY = 'key-one-0123456789abcdef0123456789';
const KEY2 = 'key-two-0123456789abcdef0123456789';
const UI = 'http://localhost:8233';

interface Built {
  app: Api;
  config: Config;
  services: Services;
}

const opened: Built[] = [];
async function build(env: Record<string, string> = {}): Promise<Built> {
  const config = loadConfig({ DATA_DIR: tempDir('hsd-auth-'), LOG_LEVEL: 'silent', API_KEYS: KEY, TEMPORAL_UI_URL: UI, ...env });
  const services = await createServices(config);
  // Routes used here never touch Temporal; a stub client proves it.
  const app = await buildApi({ config, client: {} as Client, services, logger: createLogger({ level: 'silent' }) });
  const b = { app, config, services };
  opened.push(b);
  return b;
}

afterAll(async () => {
  for (const b of opened) {
    await b.app.close();
    await b.services.close();
    fs.rmSync(b.config.dataDir, { recursive: true, force: true });
  }
});

const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

describe('API authentication', () => {
  let api: Api;
  beforeAll(async () => {
    api = (await build({ API_KEYS: `${KEY},${KEY2}` })).app;
  });

  test('/healthz is open', async () => {
    const res = await api.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  test('a missing key answers 401 JSON with WWW-Authenticate', async () => {
    const res = await api.inject({ method: 'GET', url: '/v1/destinations' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('Authorization: Bearer') } });
  });

  test('a malformed header answers 401', async () => {
    for (const authorization of [`Basic ${Buffer.from(`u:${KEY}`).toString('base64')}`, 'Bearer', 'Bearer ', KEY, `Bearer ${KEY} extra`]) {
      const res = await api.inject({ method: 'GET', url: '/v1/destinations', headers: { authorization } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    }
  });

  test('a wrong key answers 403 JSON, and the answer never echoes the key', async () => {
    for (const wrong of ['nope', KEY.slice(0, -1), `${KEY}x`, KEY.toUpperCase()]) {
      const res = await api.inject({ method: 'GET', url: '/v1/destinations', headers: bearer(wrong) });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining('API key is not valid') } });
      expect(res.body).not.toContain(wrong);
    }
  });

  test('every configured key is accepted (rotation: old and new at once); the scheme is case-insensitive', async () => {
    for (const k of [KEY, KEY2]) {
      const res = await api.inject({ method: 'GET', url: '/v1/destinations', headers: bearer(k) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ items: [] });
    }
    expect((await api.inject({ method: 'GET', url: '/v1/destinations', headers: { authorization: `bearer ${KEY}` } })).statusCode).toBe(
      200,
    );
  });

  test('every route but the public ones needs the key, unknown routes included', async () => {
    const routes: Array<[string, string]> = [
      ['POST', '/v1/destinations'],
      ['GET', '/v1/destinations/d1'],
      ['PATCH', '/v1/destinations/d1'],
      ['GET', '/v1/destinations/d1/properties'],
      ['POST', '/v1/destinations/d1/activations'],
      ['GET', '/v1/activations'],
      ['GET', '/v1/activations/a1'],
      ['POST', '/v1/activations/a1/rerun'],
      ['POST', '/v1/activations/a1/cancel'],
      ['GET', '/v1/activations/a1/rejections'],
      ['POST', '/v1/uploads'],
      ['POST', '/codec/encode'],
      ['POST', '/codec/decode'],
      ['GET', '/no/such/route'],
      ['GET', '/healthz/../v1/destinations'],
      ['GET', '/docs/../v1/destinations'],
      ['GET', '/docs/%2e%2e/v1/destinations'],
      ['GET', '//v1/destinations'],
      ['GET', '/V1/destinations'],
      ['GET', '/healthz/x'],
      ['GET', '/openapi.json/../v1/destinations'],
    ];
    for (const [method, url] of routes) {
      const res = await api.inject({ method: method as 'GET', url, payload: method === 'GET' ? undefined : {} });
      expect({ method, url, status: res.statusCode }).toEqual({ method, url, status: 401 });
    }
    // Every route registered on the app is either public or in the list above.
    const printed = api.printRoutes({ commonPrefix: false });
    for (const path of ['/v1/destinations', '/v1/activations', '/v1/uploads', '/codec/encode', '/codec/decode'])
      expect(printed).toContain(path);
  });

  test('the API description is public (it holds no data); Swagger UI offers bearer authorization', async () => {
    const spec = await api.inject({ method: 'GET', url: '/openapi.json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().components.securitySchemes.apiKey).toEqual({ type: 'http', scheme: 'bearer' });
    const docs = await api.inject({ method: 'GET', url: '/docs/' });
    expect([200, 302]).toContain(docs.statusCode);
  });

  test('the key checker compares digests of every key (no early exit), and parses bearer headers strictly', () => {
    const check = createKeyChecker([KEY, KEY2]);
    expect(check(KEY)).toBe(true);
    expect(check(KEY2)).toBe(true);
    expect(check('')).toBe(false);
    expect(check(`${KEY}\u0000`)).toBe(false);
    expect(createKeyChecker([])('anything')).toBe(false);
    expect(bearerOf(undefined)).toBe('missing');
    expect(bearerOf('Token abc')).toBe('malformed');
    expect(bearerOf('Bearer abc')).toEqual({ key: 'abc' });
  });
});

describe('API keys from the key file', () => {
  test('with no API_KEYS, the API creates a random key in a 0600 file and accepts only it', async () => {
    const { app, config } = await build({ API_KEYS: '' });
    expect(fs.statSync(config.api.keyFile).mode & 0o777).toBe(0o600);
    const key = fs.readFileSync(config.api.keyFile, 'utf8').trim();
    expect(key).toMatch(/^hsd_[A-Za-z0-9_-]{43}$/);
    expect((await app.inject({ method: 'GET', url: '/v1/destinations', headers: bearer(key) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/destinations', headers: bearer(KEY) })).statusCode).toBe(403);
    expect(ensureApiKey(config)).toBe(key); // stable: npm start prints the same key every time
  });

  test('a key file with several keys (rotation) accepts each; comments and blank lines are ignored', async () => {
    const dir = tempDir('hsd-keyfile-');
    const file = `${dir}/api-keys`;
    fs.writeFileSync(file, `# new key first\n${KEY2}\n\n${KEY}\n`, { mode: 0o600 });
    const { app, config } = await build({ API_KEYS: '', API_KEY_FILE: file });
    expect(loadApiKeys(config)).toEqual([KEY2, KEY]);
    expect(ensureApiKey(config)).toBe(KEY2);
    for (const k of [KEY, KEY2])
      expect((await app.inject({ method: 'GET', url: '/v1/destinations', headers: bearer(k) })).statusCode).toBe(200);
  });

  test('API_KEYS wins over the key file, and then no file is created', () => {
    const config = loadConfig({ DATA_DIR: tempDir('hsd-keyenv-'), API_KEYS: `${KEY}, ${KEY2}` });
    expect(ensureApiKeyDetailed(config)).toMatchObject({ key: KEY, source: 'env', created: false });
    expect(fs.existsSync(config.api.keyFile)).toBe(false);
  });

  test('concurrent first starts agree on one key', () => {
    const config = loadConfig({ DATA_DIR: tempDir('hsd-keyrace-') });
    const results = Array.from({ length: 5 }, () => ensureApiKeyDetailed(config));
    expect(new Set(results.map((r) => r.key)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(generateApiKey()).not.toBe(generateApiKey());
  });

  test('ensureKeys (npm start) creates the secrets, codec and API keys, all 0600, and names the codec endpoint', () => {
    const config = loadConfig({ DATA_DIR: tempDir('hsd-ensure-'), API_PORT: '3999' });
    const keys = ensureKeys(config);
    expect(keys.codecEndpoint).toBe('http://localhost:3999/codec');
    expect(keys.apiKey.created).toBe(true);
    for (const f of [config.secrets.secretsKeyFile, config.secrets.codecKeyFile, config.api.keyFile])
      expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    const again = ensureKeys(config);
    expect(again.apiKey).toMatchObject({ key: keys.apiKey.key, created: false });
    expect(again.codecKeyId).toBe(keys.codecKeyId);
  });
});

describe('codec server', () => {
  let built: Built;
  beforeAll(async () => {
    // Keyless access for the loopback dev UI is off unless turned on (issue 18); on here to test its limits.
    built = await build({ CODEC_ALLOW_KEYLESS_UI_ORIGIN: 'true' });
  });

  const encodeBody = (values: unknown[]) => ({ payloads: values.map((v) => toJsonPayload(defaultPayloadConverter.toPayload(v))) });

  test('encode then decode round-trips with the API key, in proto-JSON (base64 metadata and data)', async () => {
    const values = [{ email: 'grace@example.com' }, 'text', 42];
    const enc = await built.app.inject({
      method: 'POST',
      url: '/codec/encode',
      headers: { ...bearer(KEY), 'x-namespace': 'default' },
      payload: encodeBody(values),
    });
    expect(enc.statusCode).toBe(200);
    const encoded = enc.json().payloads as Array<{ metadata: Record<string, string>; data: string }>;
    expect(encoded).toHaveLength(3);
    expect(Buffer.from(encoded[0].metadata.encoding, 'base64').toString()).toBe(ENCODING_ENCRYPTED);
    expect(enc.body).not.toContain(Buffer.from('grace@example.com').toString('base64').slice(0, 12));

    const dec = await built.app.inject({ method: 'POST', url: '/codec/decode', headers: bearer(KEY), payload: { payloads: encoded } });
    expect(dec.statusCode).toBe(200);
    const decoded = (dec.json().payloads as Array<{ metadata: Record<string, string>; data: string }>).map((p) =>
      defaultPayloadConverter.fromPayload(fromJsonPayload(p)),
    );
    expect(decoded).toEqual(values);
  });

  test('decodes what the workers encode (same keys), and payloads from before a key rotation', async () => {
    const workerCodec = createCodec(built.config);
    const [p] = await workerCodec.encode([defaultPayloadConverter.toPayload({ a: 1 })]);
    const dec = await built.app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: bearer(KEY),
      payload: { payloads: [toJsonPayload(p)] },
    });
    expect(defaultPayloadConverter.fromPayload(fromJsonPayload(dec.json().payloads[0]))).toEqual({ a: 1 });

    const oldRing = parseKeyringValue(`old:${Buffer.alloc(32, 3).toString('base64')}`);
    const rotated = rotateKeyring(oldRing);
    const compact = [...rotated.keys]
      .sort(([a]) => (a === rotated.primaryId ? -1 : 1))
      .map(([id, k]) => `${id}:${k.toString('base64')}`)
      .join(',');
    const withRotation = await build({ CODEC_KEYS: compact });
    const [old] = await new EncryptionCodec(oldRing).encode([defaultPayloadConverter.toPayload('from before')]);
    const res = await withRotation.app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: bearer(KEY),
      payload: { payloads: [toJsonPayload(old)] },
    });
    expect(defaultPayloadConverter.fromPayload(fromJsonPayload(res.json().payloads[0]))).toBe('from before');
    const enc = await withRotation.app.inject({ method: 'POST', url: '/codec/encode', headers: bearer(KEY), payload: encodeBody(['now']) });
    expect(Buffer.from(enc.json().payloads[0].metadata['encryption-key-id'], 'base64').toString()).toBe(rotated.primaryId);
  });

  test('passes unencrypted payloads through decode; an unknown key id is a 400 that says what to fix', async () => {
    const plain = encodeBody(['plain']);
    const ok = await built.app.inject({ method: 'POST', url: '/codec/decode', headers: bearer(KEY), payload: plain });
    expect(ok.json()).toEqual(plain);
    const [foreign] = await new EncryptionCodec(parseKeyringValue(`other:${Buffer.alloc(32, 5).toString('base64')}`)).encode([
      defaultPayloadConverter.toPayload('x'),
    ]);
    const bad = await built.app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: bearer(KEY),
      payload: { payloads: [toJsonPayload(foreign)] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/codec key 'other'/);
  });

  test('refuses requests without a key, or from other origins', async () => {
    const body = encodeBody(['x']);
    expect((await built.app.inject({ method: 'POST', url: '/codec/decode', payload: body })).statusCode).toBe(401);
    const evil = await built.app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { origin: 'http://evil.example' },
      payload: body,
    });
    expect(evil.statusCode).toBe(401);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const otherPort = await built.app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { origin: 'http://localhost:9999' },
      payload: body,
    });
    expect(otherPort.statusCode).toBe(401);
    expect(
      (await built.app.inject({ method: 'POST', url: '/codec/decode', headers: { ...bearer('wrong'), origin: UI }, payload: body }))
        .statusCode,
    ).toBe(403);
  });

  test('the local dev Web UI (its Origin, from loopback, API on loopback) may decode without a key, with CORS', async () => {
    const body = encodeBody([{ n: 1 }]);
    const enc = await built.app.inject({ method: 'POST', url: '/codec/encode', headers: bearer(KEY), payload: body });
    for (const origin of [UI, 'http://127.0.0.1:8233']) {
      const res = await built.app.inject({
        method: 'POST',
        url: '/codec/decode',
        headers: { origin, 'x-namespace': 'default', 'content-type': 'application/json' },
        payload: enc.json(),
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers.vary).toContain('Origin');
      expect(defaultPayloadConverter.fromPayload(fromJsonPayload(res.json().payloads[0]))).toEqual({ n: 1 });
    }
  });

  test('CORS preflight for the UI origin allows POST with X-Namespace, Content-Type and Authorization', async () => {
    const res = await built.app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: {
        origin: UI,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-namespace,content-type,authorization',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(UI);
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/).sort()).toEqual([
      'authorization',
      'content-type',
      'x-namespace',
    ]);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    const evil = await built.app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('errors to the UI carry CORS headers too, so the UI can show them', async () => {
    const res = await built.app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { origin: UI, ...bearer('wrong') },
      payload: encodeBody(['x']),
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBe(UI);
  });

  test('no keyless access when the API listens beyond loopback, when the UI is remote, or with CODEC_REQUIRE_API_KEY', async () => {
    const body = encodeBody(['x']);
    const publicApi = await build({ API_HOST: '0.0.0.0', CODEC_ALLOW_KEYLESS_UI_ORIGIN: 'true' });
    expect((await publicApi.app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: UI }, payload: body })).statusCode).toBe(
      401,
    );
    const remoteUi = await build({ TEMPORAL_UI_URL: 'https://temporal.example.com', CODEC_ALLOW_KEYLESS_UI_ORIGIN: 'true' });
    const remote = await remoteUi.app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { origin: 'https://temporal.example.com' },
      payload: body,
    });
    expect(remote.statusCode).toBe(401);
    expect(remote.headers['access-control-allow-origin']).toBe('https://temporal.example.com'); // CORS yes, keyless no
    expect(
      (
        await remoteUi.app.inject({
          method: 'POST',
          url: '/codec/decode',
          headers: { origin: 'https://temporal.example.com', ...bearer(KEY) },
          payload: body,
        })
      ).statusCode,
    ).toBe(200);
    const strict = await build({ CODEC_REQUIRE_API_KEY: 'true', CODEC_ALLOW_KEYLESS_UI_ORIGIN: 'true' });
    expect((await strict.app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: UI }, payload: body })).statusCode).toBe(
      401,
    );
    // Not from loopback: light-my-request lets us set the peer address.
    const far = await built.app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { origin: UI },
      payload: body,
      remoteAddress: '10.1.2.3',
    });
    expect(far.statusCode).toBe(401);
  });

  test('the keyless UI exception covers the codec only', async () => {
    const res = await built.app.inject({ method: 'GET', url: '/v1/destinations', headers: { origin: UI } });
    expect(res.statusCode).toBe(401);
  });

  test('bad codec bodies are 400', async () => {
    const res = await built.app.inject({ method: 'POST', url: '/codec/decode', headers: bearer(KEY), payload: { nope: [] } });
    expect(res.statusCode).toBe(400);
  });
});
