/**
 * Issue 18 (the holes a careless user and an attacker found), items 3, 7, 10–14, 16 and the expired
 * re-run source: on the real API (fastify inject, or a real listening socket where Node's HTTP parser
 * answers), real files and a real store. Nothing here needs a Temporal server: the one route that calls
 * Temporal gets a stub client that answers as a server does for a workflow past its retention.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { assertWebhookUrl, webhookHostPolicy } from '../../src/alerts/webhook-url';
import { postWebhook } from '../../src/alerts/post';
import { toJsonPayload } from '../../src/api/routes/codec';
import { buildApi, type Api } from '../../src/api/server';
import { loadConfig, type Config } from '../../src/config';
import { devCodecAccess } from '../../src/dev/local-keys';
import { createLogger, openLogFile } from '../../src/logger';
import { createSourceReader } from '../../src/members/source-reader';
import { FileUploadStore } from '../../src/members/upload-store';
import { createServices, type Services } from '../../src/runtime/services';
import { parseKeyringValue } from '../../src/secrets/keyring';
import { tempDir } from '../helpers/stack';

const KEY = 'key-holes-0123456789abcdef0123456789';
const UI = 'http://localhost:8233';
const bearer = { authorization: `Bearer ${KEY}` };

interface Built {
  app: Api;
  config: Config;
  services: Services;
  logs: () => string;
}

const opened: Built[] = [];
async function build(env: Record<string, string> = {}, client: Partial<Client> = {}): Promise<Built> {
  const config = loadConfig({ DATA_DIR: tempDir('hsd-holes-'), LOG_LEVEL: 'info', API_KEYS: KEY, TEMPORAL_UI_URL: UI, ...env });
  const services = await createServices(config);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const app = await buildApi({ config, client: client as Client, services, logger: createLogger({ level: 'info', destination: sink }) });
  const b = { app, config, services, logs: () => lines.join('') };
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

const encodeBody = (values: unknown[]) => ({ payloads: values.map((v) => toJsonPayload(defaultPayloadConverter.toPayload(v))) });

/** The documented error shape, and nothing else. */
function expectErrorShape(body: unknown): void {
  expect(Object.keys(body as object)).toEqual(['error']);
  const error = (body as { error: Record<string, unknown> }).error;
  expect(typeof error.code).toBe('string');
  expect(typeof error.message).toBe('string');
  for (const k of Object.keys(error)) expect(['code', 'message', 'details']).toContain(k);
}

describe('3. keyless codec access is off unless the operator turns it on', () => {
  test('by default, the Web UI Origin from loopback is not enough: 401', async () => {
    const { app } = await build();
    const res = await app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: UI }, payload: encodeBody(['x']) });
    expect(res.statusCode).toBe(401);
    const enc = await app.inject({ method: 'POST', url: '/codec/encode', headers: { origin: UI }, payload: encodeBody(['x']) });
    expect(enc.statusCode).toBe(401);
  });

  test('CODEC_ALLOW_KEYLESS_UI_ORIGIN=true allows the loopback dev UI; CODEC_REQUIRE_API_KEY still wins', async () => {
    const on = await build({ CODEC_ALLOW_KEYLESS_UI_ORIGIN: 'true' });
    expect(
      (await on.app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: UI }, payload: encodeBody(['x']) })).statusCode,
    ).toBe(200);
    const both = await build({ CODEC_ALLOW_KEYLESS_UI_ORIGIN: 'true', CODEC_REQUIRE_API_KEY: 'true' });
    expect(
      (await both.app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: UI }, payload: encodeBody(['x']) })).statusCode,
    ).toBe(401);
  });

  test('npm start turns it on for its own loopback dev UI (unless the operator said otherwise) and says so', () => {
    const base = loadConfig({ DATA_DIR: '/tmp/x', TEMPORAL_UI_URL: UI });
    const dev = devCodecAccess(base, {});
    expect(dev.config.secrets.codecAllowKeylessUiOrigin).toBe(true);
    expect(dev.notice).toMatch(/without an API key/);
    const off = devCodecAccess(loadConfig({ DATA_DIR: '/tmp/x', CODEC_ALLOW_KEYLESS_UI_ORIGIN: 'false' }), {
      CODEC_ALLOW_KEYLESS_UI_ORIGIN: 'false',
    });
    expect(off.config.secrets.codecAllowKeylessUiOrigin).toBe(false);
    expect(off.notice).toMatch(/needs the API key/);
    const strict = devCodecAccess(loadConfig({ DATA_DIR: '/tmp/x', CODEC_REQUIRE_API_KEY: 'true' }), {});
    expect(strict.config.secrets.codecAllowKeylessUiOrigin).toBe(false);
    const remote = devCodecAccess(loadConfig({ DATA_DIR: '/tmp/x', API_HOST: '0.0.0.0' }), {});
    expect(remote.config.secrets.codecAllowKeylessUiOrigin).toBe(false);
  });
});

describe('7. request logs: method, route pattern, status and timing only', () => {
  test('no query string, no client address, no file name', async () => {
    const b = await build();
    const secret = 'hsd_querysecret_0123456789';
    await b.app.inject({ method: 'GET', url: `/v1/destinations?api_key=${secret}`, headers: bearer, remoteAddress: '10.9.8.7' });
    await b.app.inject({
      method: 'POST',
      url: '/v1/uploads?filename=board-members-2026.csv',
      headers: { ...bearer, 'content-type': 'text/csv' },
      payload: 'email\na@example.com\n',
      remoteAddress: '10.9.8.7',
    });
    await b.app.inject({
      method: 'GET',
      url: `/v1/destinations/dst_does_not_exist?x=${secret}`,
      headers: bearer,
      remoteAddress: '10.9.8.7',
    });
    const text = b.logs();
    for (const leak of [secret, 'api_key', '10.9.8.7', 'board-members', 'remoteAddress', 'remotePort', '?'])
      expect(text).not.toContain(leak);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = lines.filter((l) => l.msg === 'request completed');
    expect(done.map((l) => [l.method, l.route, l.statusCode])).toEqual([
      ['GET', '/v1/destinations', 200],
      ['POST', '/v1/uploads', 201],
      ['GET', '/v1/destinations/:id', 404],
    ]);
    for (const l of done) expect(typeof l.responseTime).toBe('number');
  });

  test('an unknown route is logged without its path', async () => {
    const b = await build();
    await b.app.inject({ method: 'GET', url: '/secret-path-here?k=1', headers: bearer });
    expect(b.logs()).not.toContain('secret-path-here');
  });
});

describe('10. the codec accepts {} (the temporal CLI sends it)', () => {
  test('answers {payloads: []}', async () => {
    const { app } = await build();
    for (const url of ['/codec/decode', '/codec/encode']) {
      const res = await app.inject({ method: 'POST', url, headers: bearer, payload: {} });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ payloads: [] });
    }
  });
});

describe('11. non-JSON bodies to JSON routes: 415 in the documented shape', () => {
  test.each(['text/plain', 'text/csv', 'application/x-ndjson', 'application/octet-stream', 'application/xml'])('%s', async (type) => {
    const { app } = await build();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/destinations',
      headers: { ...bearer, 'content-type': type },
      payload: '{"name":"x"}',
    });
    expect(res.statusCode).toBe(415);
    expectErrorShape(res.json());
    expect(res.body.length).toBeLessThan(400);
    expect(res.body).not.toMatch(/_readableState|highWaterMark|socket/);
    expect(res.json().error.message).toMatch(/application\/json/);
  });
});

describe('12. every error in the documented shape; no key file path', () => {
  test('oversized headers: 431 JSON', async () => {
    const b = await build();
    await b.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = b.app.server.address() as net.AddressInfo;
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.write(`GET /v1/destinations HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      });
      let data = '';
      sock.on('data', (d) => (data += d.toString()));
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 431/);
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    expectErrorShape(JSON.parse(body));
    expect(JSON.parse(body).error.code).toBe('HEADERS_TOO_LARGE');
  });

  test('ids up to the 200 characters the schemas allow reach the route; longer ids are a 400 in shape', async () => {
    const { app } = await build();
    const ok = await app.inject({ method: 'GET', url: `/v1/destinations/${'d'.repeat(150)}`, headers: bearer });
    expect(ok.statusCode).toBe(404);
    expectErrorShape(ok.json());
    const long = await app.inject({ method: 'GET', url: `/v1/destinations/${'d'.repeat(300)}`, headers: bearer });
    expect([400, 414]).toContain(long.statusCode);
    expectErrorShape(long.json());
  });

  test('__proto__ keys: 400 in shape that says what is wrong', async () => {
    const { app } = await build();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/destinations',
      headers: { ...bearer, 'content-type': 'application/json' },
      payload: '{"name":"x","__proto__":{"admin":true}}',
    });
    expect(res.statusCode).toBe(400);
    expectErrorShape(res.json());
    expect(res.json().error.message).toMatch(/__proto__/);
  });

  test('malformed JSON: 400 in shape', async () => {
    const { app } = await build();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/destinations',
      headers: { ...bearer, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(res.statusCode).toBe(400);
    expectErrorShape(res.json());
  });

  test('401/403 say where to find the key without the absolute path', async () => {
    const b = await build({ API_KEYS: '' });
    const missing = await b.app.inject({ method: 'GET', url: '/v1/destinations' });
    const wrong = await b.app.inject({ method: 'GET', url: '/v1/destinations', headers: { authorization: 'Bearer nope' } });
    const malformed = await b.app.inject({ method: 'GET', url: '/v1/destinations', headers: { authorization: 'Basic x' } });
    for (const res of [missing, wrong, malformed]) {
      expect(res.body).not.toContain(b.config.dataDir);
      expect(res.body).not.toContain(b.config.api.keyFile);
      expect(res.json().error.message).toMatch(/API_KEY_FILE|api-key/);
    }
  });
});

describe('13. alert webhooks to loopback and private addresses need ALERT_ALLOW_PRIVATE_URLS', () => {
  test.each([
    'http://127.0.0.1:8080/a',
    'http://localhost/a',
    'http://10.0.0.5/a',
    'http://172.16.3.4/a',
    'http://192.168.1.1/a',
    'http://100.64.0.1/a',
    'http://[::1]/a',
    'http://[fd12::1]/a',
    'http://[::ffff:10.0.0.1]/a',
  ])('refuses %s by default, accepts it when allowed', (url) => {
    expect(() => assertWebhookUrl(url, webhookHostPolicy({ allowedHosts: [], allowPrivateUrls: false }))).toThrow(
      /ALERT_ALLOW_PRIVATE_URLS/,
    );
    expect(() => assertWebhookUrl(url, { allowedHosts: [] })).toThrow(/ALERT_ALLOW_PRIVATE_URLS/);
    expect(assertWebhookUrl(url, webhookHostPolicy({ allowedHosts: [], allowPrivateUrls: true })).href).toBeTruthy();
  });

  test('metadata addresses stay refused even when private ones are allowed', () => {
    expect(() => assertWebhookUrl('http://169.254.169.254/', webhookHostPolicy({ allowedHosts: [], allowPrivateUrls: true }))).toThrow(
      /metadata/,
    );
  });

  test('delivery refuses a name that resolves to loopback unless allowed', async () => {
    await expect(postWebhook('http://localhost:9/x', '{}', {}, { timeoutMs: 2000, policy: { allowedHosts: [] } })).rejects.toMatchObject({
      retryable: false,
    });
    // With the flag, the connection is attempted (and refused: nothing listens on port 9).
    await expect(
      postWebhook(
        'http://localhost:9/x',
        '{}',
        {},
        { timeoutMs: 2000, policy: webhookHostPolicy({ allowedHosts: [], allowPrivateUrls: true }) },
      ),
    ).rejects.toMatchObject({ retryable: true });
  });

  test('the subscribe route refuses a loopback receiver by default (422)', async () => {
    const { app } = await build();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/destinations/dst_x/alerts',
      headers: bearer,
      payload: { url: 'http://127.0.0.1:9999/hook', events: ['activation.failed'] },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toMatch(/ALERT_ALLOW_PRIVATE_URLS/);
  });
});

describe('14. path sources: one message whether or not a file outside the allowed folders exists', () => {
  test('existing and missing files outside answer alike', async () => {
    const allowed = tempDir('hsd-allowed-');
    const outside = tempDir('hsd-outside-');
    const exists = path.join(outside, 'members.csv');
    fs.writeFileSync(exists, 'email\na@example.com\n');
    const reader = createSourceReader({
      uploads: new FileUploadStore(tempDir('hsd-up-')),
      allowedSourceDirs: [allowed],
      maxLineBytes: 1024,
    });
    const errOf = async (p: string) => reader.describe({ kind: 'path', path: p }).catch((e: Error & { code: string }) => e);
    const a = (await errOf(exists)) as Error & { code: string; status: number };
    const b = (await errOf(path.join(outside, 'nope.csv'))) as Error & { code: string; status: number };
    expect(a).toBeInstanceOf(Error);
    expect([a.code, a.status, a.message.replace(exists, 'P')]).toEqual([
      b.code,
      b.status,
      b.message.replace(path.join(outside, 'nope.csv'), 'P'),
    ]);
    // Inside the allowed folders, a missing file is still named as missing.
    const inside = (await errOf(path.join(allowed, 'nope.csv'))) as Error;
    expect(inside.message).toMatch(/does not exist/);
  });
});

describe('16. files at rest: 0600 in 0700 folders; uploads encrypted', () => {
  const RING = parseKeyringValue(`u1:${Buffer.alloc(32, 9).toString('base64')}`);

  test('the SQLite store, the uploads folder and uploads are private to the service user', async () => {
    const b = await build();
    const up = await b.app.inject({
      method: 'POST',
      url: '/v1/uploads?filename=m.csv',
      headers: { ...bearer, 'content-type': 'text/csv' },
      payload: 'email\nsecret.member@example.com\n',
    });
    expect(up.statusCode).toBe(201);
    const mode = (f: string) => fs.statSync(f).mode & 0o777;
    expect(mode(b.config.storage.sqlitePath)).toBe(0o600);
    expect(mode(path.dirname(b.config.storage.sqlitePath))).toBe(0o700);
    expect(mode(b.config.storage.uploadsDir)).toBe(0o700);
    const files = fs.readdirSync(b.config.storage.uploadsDir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const full = path.join(b.config.storage.uploadsDir, f);
      expect(mode(full)).toBe(0o600);
      expect(fs.readFileSync(full).includes('secret.member@example.com')).toBe(false);
    }
    const { uploadId } = up.json<{ uploadId: string }>();
    const back = await b.services.uploads.open(uploadId, 0);
    let text = '';
    for await (const c of back) text += (c as Buffer).toString();
    expect(text).toBe('email\nsecret.member@example.com\n');
  });

  test('encrypted file uploads read back exactly from any offset; tampering is detected', async () => {
    const dir = tempDir('hsd-enc-');
    const store = new FileUploadStore(dir, { keyring: RING });
    const lines = Array.from({ length: 30_000 }, (_, i) => `{"email":"m${i}@example.com","n":${i}}`);
    const plain = Buffer.from(lines.join('\n') + '\n');
    const saved = await store.save(Readable.from([plain.subarray(0, 100_000), plain.subarray(100_000)]), {
      filename: 'x.ndjson',
      maxBytes: 1e9,
    });
    expect(saved.bytes).toBe(plain.length);
    const data = fs.readFileSync(path.join(dir, `${saved.uploadId}.data`));
    expect(data.includes('@example.com')).toBe(false);
    const read = async (offset: number) => {
      const chunks: Buffer[] = [];
      for await (const c of await store.open(saved.uploadId, offset)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    for (const off of [0, 1, 65_535, 65_536, 65_537, 200_001, plain.length - 1, plain.length])
      expect((await read(off)).equals(plain.subarray(off))).toBe(true);
    // Tamper one byte: the read fails instead of returning altered member data.
    const tampered = Buffer.from(data);
    tampered[tampered.length - 40] ^= 1;
    fs.writeFileSync(path.join(dir, `${saved.uploadId}.data`), tampered);
    await expect(read(0)).rejects.toThrow();
    // Truncate to a segment boundary: detected too.
    fs.writeFileSync(path.join(dir, `${saved.uploadId}.data`), data.subarray(0, data.length - 1000));
    await expect(read(0)).rejects.toThrow();
  });

  test('log files are 0600 in a 0700 folder', async () => {
    const dir = path.join(tempDir('hsd-logs-'), 'logs');
    const file = path.join(dir, 'stack.log');
    const dest = openLogFile(file);
    await once(dest, 'ready');
    dest.write('{"msg":"x"}\n');
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    dest.end();
  });
});

describe('Also: re-run of a run past the retention', () => {
  test('answers 410 with a clear message, not 500', async () => {
    const client = {
      workflow: {
        getHandle: () => ({
          describe: async () => {
            throw new WorkflowNotFoundError('not found', 'act_old', undefined);
          },
        }),
      },
    } as unknown as Partial<Client>;
    const b = await build({}, client);
    await b.services.activations.insert({
      id: 'act_old',
      destinationId: 'dst_1',
      audience: { id: 'aud1', name: 'A' },
      source: { kind: 'upload', uploadId: 'upl_000000000000000000000000' },
      createdAt: new Date(Date.now() - 90 * 86_400_000).toISOString(),
    });
    for (const mode of ['all', 'rejected']) {
      const res = await b.app.inject({ method: 'POST', url: '/v1/activations/act_old/rerun', headers: bearer, payload: { mode } });
      expect(res.statusCode).toBe(410);
      expectErrorShape(res.json());
      expect(res.json().error.message).toMatch(/retention/);
    }
  });
});
