/**
 * Input limits and strict validation on the real API (fastify inject) over a real store: body and
 * upload size caps (413), unknown fields refused, the HubSpot base-URL allow-list, and no echo of the
 * token in any of these errors. Everything here is refused before Temporal is called (stub client).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { buildApi, type Api } from '../../src/api/server';
import { loadConfig, type Config } from '../../src/config';
import { assertAllowedBaseUrl } from '../../src/destinations/base-url';
import { AppError } from '../../src/errors';
import { createLogger } from '../../src/logger';
import { createServices, type Services } from '../../src/runtime/services';
import { tempDir } from '../helpers/stack';

const KEY = 'limits-test-key-0123456789abcdef';
const TOKEN = 'pat-na1-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const auth = { authorization: `Bearer ${KEY}` };
const MAPPING = { attributes: [{ source: 'person.name.firstName', target: 'firstname' }] };

let app: Api;
let config: Config;
let services: Services;

beforeAll(async () => {
  config = loadConfig({
    DATA_DIR: tempDir('hsd-limits-'),
    LOG_LEVEL: 'silent',
    API_KEYS: KEY,
    API_MAX_BODY_BYTES: '4096',
    UPLOAD_MAX_BYTES: '10000',
    MAX_LINE_BYTES: '200',
    HUBSPOT_ALLOWED_BASE_URLS: 'http://127.0.0.1:4010',
  });
  services = await createServices(config);
  app = await buildApi({ config, client: {} as Client, services, logger: createLogger({ level: 'silent' }) });
});

afterAll(async () => {
  await app?.close();
  await services?.close();
  fs.rmSync(config.dataDir, { recursive: true, force: true });
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: payload as object, headers: { ...auth, ...headers } });

describe('size limits', () => {
  test('a JSON body over API_MAX_BODY_BYTES is 413 with a JSON error', async () => {
    const res = await post('/v1/destinations', { name: 'x', description: 'd'.repeat(5000), hubspot: { token: TOKEN }, mapping: MAPPING });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('4096 bytes') } });
    expect(res.body).not.toContain(TOKEN);
  });

  test('an unauthenticated large body is refused (401) before it is parsed', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/destinations', payload: { description: 'd'.repeat(5000) } });
    expect(res.statusCode).toBe(401);
  });

  test('an upload over UPLOAD_MAX_BYTES is 413 and leaves nothing behind', async () => {
    const rows = ['email,person.name.firstName', ...Array.from({ length: 800 }, (_, i) => `m${i}@example.com,Name${i}`)].join('\n');
    expect(rows.length).toBeGreaterThan(10_000);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/uploads?filename=big.csv',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: rows,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('UPLOAD_MAX_BYTES') } });
    const left = fs.existsSync(config.storage.uploadsDir) ? fs.readdirSync(config.storage.uploadsDir) : [];
    expect(left).toEqual([]);
  });

  test('an upload under the cap, larger than the JSON body limit, is accepted (uploads stream)', async () => {
    const rows = ['email,person.name.firstName', ...Array.from({ length: 300 }, (_, i) => `m${i}@example.com,N${i}`)].join('\n') + '\n';
    expect(rows.length).toBeGreaterThan(4096);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/uploads?filename=ok.csv',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: rows,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ format: 'csv', rows: 300 });
  });

  test('records longer than MAX_LINE_BYTES do not break the upload: they are counted, and rejected per record at activation', async () => {
    // (The per-record rejection itself is shown end to end in no-leaks.test.ts / limits-stack.test.ts.)
    const long = `{"identityMap":{"Email":[{"id":"long@example.com","primary":true}]},"pad":"${'x'.repeat(500)}"}`;
    const body =
      [
        '{"identityMap":{"Email":[{"id":"a@example.com","primary":true}]}}',
        long,
        '{"identityMap":{"Email":[{"id":"b@example.com","primary":true}]}}',
      ].join('\n') + '\n';
    const res = await app.inject({
      method: 'POST',
      url: '/v1/uploads?filename=p.ndjson',
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
      payload: body,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ format: 'xdm-ndjson', rows: 3 });
  });

  test('uploads need a file content type (415)', async () => {
    const res = await post('/v1/uploads', { a: 1 });
    expect(res.statusCode).toBe(415);
  });
});

describe('strict schemas: unknown fields are refused, not ignored', () => {
  const valid = { name: 'n', hubspot: { token: TOKEN, baseUrl: 'https://169.254.169.254' }, mapping: MAPPING };

  test.each([
    ['top level', { ...valid, admin: true }, 'admin'],
    ['hubspot', { ...valid, hubspot: { ...valid.hubspot, scopes: ['all'] } }, 'scopes'],
    ['mapping', { ...valid, mapping: { ...MAPPING, extra: 1 } }, 'extra'],
    ['mapping attribute', { ...valid, mapping: { attributes: [{ source: 'a', target: 'b', transform: 'eval' }] } }, 'transform'],
  ])('create destination: unknown field in %s → 400 naming it, never echoing the token', async (_where, body, field) => {
    const res = await post('/v1/destinations', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(res.body).toContain(field);
    expect(res.body).not.toContain(TOKEN);
  });

  test('a token that fails validation is not echoed either', async () => {
    for (const token of ['short', 't'.repeat(1001)]) {
      const res = await post('/v1/destinations', { ...valid, hubspot: { token } });
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain(token);
    }
  });

  test('activation, re-run and update bodies, and query strings, are strict too', async () => {
    const activation = await post('/v1/destinations/d1/activations', {
      audience: { id: 'a', name: 'A' },
      source: { path: 'x.ndjson' },
      priority: 1,
    });
    expect(activation.statusCode).toBe(400);
    const nestedSource = await post('/v1/destinations/d1/activations', {
      audience: { id: 'a', name: 'A' },
      source: { path: 'x.ndjson', followSymlinks: true },
    });
    expect(nestedSource.statusCode).toBe(400);
    const rerun = await post('/v1/activations/a1/rerun', { mode: 'all', force: true });
    expect(rerun.statusCode).toBe(400);
    const patch = await app.inject({
      method: 'PATCH',
      url: '/v1/destinations/d1',
      headers: auth,
      payload: { hubspot: { token: TOKEN, portalId: 1 } },
    });
    expect(patch.statusCode).toBe(400);
    expect(patch.body).not.toContain(TOKEN);
    const list = await app.inject({ method: 'GET', url: '/v1/activations?limit=5&sql=1', headers: auth });
    expect(list.statusCode).toBe(400);
    const upload = await app.inject({
      method: 'POST',
      url: '/v1/uploads?filename=a.csv&path=/etc/passwd',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: 'email\n',
    });
    expect(upload.statusCode).toBe(400);
  });
});

describe('HubSpot base-URL allow-list', () => {
  test.each([
    'https://169.254.169.254',
    'http://169.254.169.254/latest/meta-data',
    'http://localhost:1234',
    'http://127.0.0.1:4011', // a port that is not the allowed one
    'https://127.0.0.1:4010', // scheme differs from the allowed origin
    'http://api.hubapi.com', // HubSpot, but not HTTPS
    'https://api.hubapi.com:8443',
    'https://api.hubapi.com.evil.example',
    'https://evil.example/api.hubapi.com',
    'https://user:pass@api.hubapi.com',
    'file:///etc/passwd',
  ])('create with baseUrl %s → 400 HUBSPOT_BASE_URL_NOT_ALLOWED, before anything is saved or called', async (baseUrl) => {
    const res = await post('/v1/destinations', { name: 'n', hubspot: { token: TOKEN, baseUrl }, mapping: MAPPING });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code === 'HUBSPOT_BASE_URL_NOT_ALLOWED' || body.error.code === 'VALIDATION_FAILED').toBe(true);
    if (body.error.code === 'HUBSPOT_BASE_URL_NOT_ALLOWED') expect(body.error.message).toMatch(/not allowed|credentials/);
    expect(res.body).not.toContain(TOKEN);
    expect(await services.destinations.list()).toEqual([]);
  });

  test('the message says what to do and lists what is allowed', async () => {
    const res = await post('/v1/destinations', {
      name: 'n',
      hubspot: { token: TOKEN, baseUrl: 'https://169.254.169.254' },
      mapping: MAPPING,
    });
    expect(res.json()).toEqual({
      error: {
        code: 'HUBSPOT_BASE_URL_NOT_ALLOWED',
        message: expect.stringContaining('HUBSPOT_ALLOWED_BASE_URLS'),
        details: { allowed: ['https://api.hubapi.com', 'http://127.0.0.1:4010'] },
      },
    });
  });

  test('changing an existing destination to a disallowed URL is refused too', async () => {
    const now = new Date().toISOString();
    await services.destinations.insert({
      id: 'dst_limits',
      name: 'n',
      baseUrl: 'https://api.hubapi.com',
      sealedToken: services.sealer.seal(TOKEN, 'destination:dst_limits'),
      portalId: 1,
      timeZone: 'UTC',
      mapping: MAPPING,
      alerts: [],
      createdAt: now,
      updatedAt: now,
    });
    const res = await app.inject({
      method: 'PATCH',
      url: '/v1/destinations/dst_limits',
      headers: auth,
      payload: { hubspot: { baseUrl: 'http://localhost:1234' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('HUBSPOT_BASE_URL_NOT_ALLOWED');
    // And the API never shows the (sealed) token of a stored destination.
    const got = await app.inject({ method: 'GET', url: '/v1/destinations/dst_limits', headers: auth });
    expect(got.statusCode).toBe(200);
    expect(got.body).not.toContain(TOKEN);
    expect(got.body).not.toContain('sealed:');
    expect(Object.keys(got.json())).not.toContain('sealedToken');
  });

  test('the same check guards the worker side (HubSpot hosts over HTTPS, configured origins exactly)', () => {
    const allowed = ['http://127.0.0.1:4010'];
    for (const ok of [
      'https://api.hubapi.com',
      'https://api.hubapi.com/',
      'https://api-eu1.hubapi.com',
      'http://127.0.0.1:4010',
      'http://127.0.0.1:4010/base',
    ]) {
      expect(() => assertAllowedBaseUrl(ok, allowed)).not.toThrow();
    }
    // (http://0x7f000001:4010 is allowed: URL parsing normalises it to the allowed origin itself.)
    for (const bad of ['http://127.0.0.1:4011', 'not a url', 'https://[::1]:4010', 'http://[::1]:4010', 'http://localhost:4010']) {
      expect(() => assertAllowedBaseUrl(bad, allowed)).toThrow(AppError);
    }
  });
});

test('the upload directory path is not exposed in errors', async () => {
  const res = await post('/v1/destinations/d1/activations', {
    audience: { id: 'a', name: 'A' },
    source: { uploadId: 'upl_doesnotexist00' },
  });
  expect(res.statusCode).toBe(404);
  expect(res.body).not.toContain(path.resolve(config.dataDir));
});
