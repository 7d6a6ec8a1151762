/**
 * The OpenAPI document (/openapi.json) and docs page (/docs) are generated from the same zod schemas the
 * API validates with: every /v1 route is listed with its method, path parameters and request schemas.
 * No Temporal needed: the API is built and driven with fastify's inject.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { buildApi, type Api } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createServices, type Services } from '../../src/runtime/services';

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: Array<{ in: string; name: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> };
  responses?: Record<string, unknown>;
}
type Doc = {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, unknown> };
};

/** The routes the API really serves, from fastify's route tree: [method, path] of every /v1 route. */
function servedV1Routes(app: Api): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)(?:├── |└── )(\S+) \(([^)]+)\)/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    const full = (stack[depth - 1] ?? '') + (m[2].startsWith('/') || depth === 0 ? '' : '/') + m[2];
    stack[depth] = full;
    if (!full.startsWith('/v1/')) continue;
    for (const method of m[3].split(',').map((x) => x.trim().toLowerCase()))
      if (method !== 'head' && method !== 'options') out.push([method, full]);
  }
  return out;
}

const toOpenApiPath = (route: string) => route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

let dataDir: string;
let services: Services;
let api: Api;
let doc: Doc;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hsd-openapi-'));
  const config = loadConfig({ DATA_DIR: dataDir, API_KEYS: 'openapi-test-key-0123456789' });
  services = await createServices(config);
  api = await buildApi({ config, client: {} as Client, services, logger: createLogger({ level: 'silent' }) });
  const res = await api.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200); // public: no API key
  doc = res.json<Doc>();
  await api.ready();
});

afterAll(async () => {
  await api?.close();
  await services?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('is an OpenAPI 3 document with bearer API-key security', () => {
  expect(doc.openapi).toMatch(/^3\./);
  expect(doc.info.title).toMatch(/HubSpot/);
  expect(doc.components?.securitySchemes).toHaveProperty('apiKey');
});

test('lists every /v1 route with its method, path parameters and request schemas', () => {
  const routes = servedV1Routes(api);
  expect(routes.length).toBeGreaterThanOrEqual(18);
  expect(routes).toEqual(
    expect.arrayContaining([
      ['post', '/v1/destinations/:id/alerts'],
      ['delete', '/v1/destinations/:id/alerts/:alertId'],
      ['get', '/v1/activations'],
    ]),
  );
  for (const [method, route] of routes) {
    const op = doc.paths[toOpenApiPath(route)]?.[method];
    expect({ route: `${method.toUpperCase()} ${route}`, documented: Boolean(op) }).toEqual({
      route: `${method.toUpperCase()} ${route}`,
      documented: true,
    });
    expect(op.summary).toBeTruthy();
    expect(op.tags?.length).toBeGreaterThan(0);
    for (const name of [...route.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1])) {
      expect(op.parameters?.some((p) => p.in === 'path' && p.name === name && p.required)).toBe(true);
    }
    if (method === 'post' || method === 'patch' || method === 'put') {
      const content = op.requestBody?.content ?? {};
      const schemas = Object.values(content)
        .map((c) => c.schema)
        .filter(Boolean);
      // JSON bodies come from the zod schemas; uploads are streamed (multipart/octet-stream) or bodiless actions.
      if (content['application/json']) expect(schemas.length).toBeGreaterThan(0);
    }
    expect(Object.keys(op.responses ?? {}).length).toBeGreaterThan(0);
  }
  // Nothing documented that is not served.
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      expect({ p, method, served: api.hasRoute({ method: method.toUpperCase(), url: p.replace(/\{([^}]+)\}/g, ':$1') }) }).toEqual({
        p,
        method,
        served: true,
      });
    }
  }
});

test('request schemas are the zod ones: strict bodies with required fields and enums', () => {
  const create = doc.paths['/v1/destinations'].post.requestBody!.content['application/json'].schema as {
    required?: string[];
    additionalProperties?: boolean;
    properties: Record<string, unknown>;
  };
  expect(create.required).toEqual(expect.arrayContaining(['name', 'hubspot', 'mapping']));
  expect(create.additionalProperties).toBe(false);
  const alerts = doc.paths['/v1/destinations/{id}/alerts'].post.requestBody!.content['application/json'].schema as {
    required?: string[];
    properties: { events: { items: { enum?: string[] } } };
  };
  expect(alerts.required).toEqual(expect.arrayContaining(['url', 'events']));
  expect(alerts.properties.events.items.enum).toEqual(expect.arrayContaining(['activation.failed', 'stream.lag_above_threshold']));
  const list = doc.paths['/v1/activations'].get;
  expect(list.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['destinationId', 'audienceId', 'status']));
});

test('/docs serves the HTML docs page without an API key', async () => {
  let res = await api.inject({ method: 'GET', url: '/docs' });
  for (let hops = 0; res.statusCode >= 300 && res.statusCode < 400 && hops < 3; hops++) {
    const location = String(res.headers.location);
    res = await api.inject({ method: 'GET', url: location.startsWith('/') ? location : `/docs/${location.replace(/^\.\//, '')}` });
  }
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/text\/html/);
  expect(res.body).toMatch(/swagger/i);
});
