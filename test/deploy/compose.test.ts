/**
 * docker-compose.yml, checked statically (no Docker engine here): valid against the Compose
 * Specification schema, and consistent with the code — every variable the api and worker services
 * set is a setting of src/config.ts, images are official with pinned tags, the Web UI's codec endpoint
 * reaches the API's codec routes, ports and addresses line up, the search attributes are registered.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import type { Client } from '@temporalio/client';
import { buildApi } from '../../src/api/server';
import { EnvSchema, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createServices } from '../../src/runtime/services';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  container_name?: string;
  healthcheck?: { test: string[] };
}

const raw = read('docker-compose.yml');
// Compose resolves YAML merge keys (`<<: *app-env`); so does this parse.
const compose = YAML.parse(raw, { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const env = (name: string) => services[name].environment ?? {};
/** `${VAR:-default}` / `${VAR:?msg}` → the default or '' (what the service sees with an empty .env). */
const resolved = (v: string | number | undefined) =>
  String(v ?? '').replace(/\$\{[A-Z0-9_]+(?::?-([^}]*)|:?\?[^}]*)?\}/g, (_m, def: string | undefined) => def ?? '');

/** The older schema revisions use draft-04 style `id` keywords, which Ajv refuses: drop them. */
function withoutIdKeywords(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIdKeywords);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
        .map(([k, v]) => [k, withoutIdKeywords(v)]),
    );
  }
  return node;
}

test('docker-compose.yml is valid against the Compose Specification schema', () => {
  const { $schema: _draft, ...schema } = withoutIdKeywords(JSON.parse(read('test/fixtures/compose-spec.json'))) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('ports', /^.+$/);
  ajv.addFormat('subnet_ip_address', /^.+$/);
  const validate = ajv.compile(schema);
  // Validate what Compose validates: the document with merge keys resolved.
  const ok = validate(compose);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
  // The schema does catch mistakes.
  expect(validate({ services: { api: { image: 'x', bogus: true } } })).toBe(false);
});

test('the api and worker set only settings of src/config.ts, and share the app settings', () => {
  const known = new Set(Object.keys(EnvSchema.shape));
  for (const name of ['api', 'worker']) {
    const unknown = Object.keys(env(name)).filter((k) => !known.has(k));
    expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    for (const key of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'TEMPORAL_TASK_QUEUE',
      'DATABASE_URL',
      'CODEC_KEYS',
      'HUBSPOT_ALLOWED_BASE_URLS',
      'DATA_DIR',
    ]) {
      expect({ service: name, key, set: key in env(name) }).toEqual({ service: name, key, set: true });
    }
  }
  expect(env('api').TEMPORAL_TASK_QUEUE).toBe(env('worker').TEMPORAL_TASK_QUEUE);
  expect(env('api').CODEC_KEYS).toBe(env('worker').CODEC_KEYS);
  expect(env('api').API_KEYS).toMatch(/^\$\{API_KEYS:\?/); // required from .env, never a default
  expect(env('api').CODEC_KEYS).toMatch(/^\$\{CODEC_KEYS:\?/);
  // The resolved values parse with the real config loader.
  for (const name of ['api', 'worker']) {
    const vars = Object.fromEntries(
      Object.entries(env(name))
        .map(([k, v]) => [k, resolved(v)])
        .filter(([, v]) => v !== ''),
    );
    expect(() => loadConfig(vars)).not.toThrow();
  }
});

test('images are the official ones with pinned tags; api and worker are built from the Dockerfile', () => {
  const official = ['postgres', 'temporalio/admin-tools', 'temporalio/server', 'temporalio/ui', 'nginx'];
  for (const [name, s] of Object.entries(services)) {
    if (s.build) {
      expect({ name, build: s.build }).toEqual({ name, build: '.' });
      continue;
    }
    const [repo, tag] = s.image!.split(':');
    expect({ name, repo, official: official.includes(repo) }).toEqual({ name, repo, official: true });
    expect(tag).toMatch(/^\d+(\.\d+)*(-[a-z]+)?$/); // pinned: a version, never latest
  }
  // Schema tools and server of the same release.
  expect(services['temporal-schema'].image!.split(':')[1]).toBe(services.temporal.image!.split(':')[1]);
  expect(services['temporal-setup'].image!.split(':')[1]).toBe(services.temporal.image!.split(':')[1]);
  const dockerfile = read('Dockerfile');
  expect(dockerfile).toMatch(/^FROM node:20/m);
  expect(dockerfile).toMatch(/npm ci/);
  expect(dockerfile).toMatch(/^USER (node|\d{3,})$/m); // non-root
  for (const name of ['api', 'worker']) {
    const [bin, , , entry] = services[name].command!;
    expect(bin).toBe('node');
    expect(fs.existsSync(path.join(ROOT, entry))).toBe(true);
  }
  expect(services.api.command).toContain('src/api/main.ts');
  expect(services.worker.command).toContain('src/worker.ts');
});

test('the worker scales: replicas, no fixed container name or host port, metrics on METRICS_PORT', () => {
  const w = services.worker;
  expect(w.deploy?.replicas).toBeGreaterThanOrEqual(2);
  expect(w.container_name).toBeUndefined();
  expect(w.ports).toBeUndefined();
  expect(w.expose).toEqual([String(env('worker').METRICS_PORT)]);
  expect(env('worker').METRICS_HOST).toBe('0.0.0.0');
  for (const s of Object.values(services)) expect(s.container_name).toBeUndefined();
});

test('addresses and ports line up: Temporal, the store, the API, the Web UI', () => {
  // Temporal frontend
  expect(env('api').TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(env('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(env('temporal-setup').TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(services.temporal.ports!.some((p) => p.endsWith(':7233'))).toBe(true);
  // Shared store on the PostgreSQL service, in the database it creates.
  const db = new URL(resolved(env('worker').DATABASE_URL));
  expect(db.protocol).toBe('postgres:');
  expect(db.hostname).toBe('postgresql');
  expect(db.pathname).toBe(`/${env('postgresql').POSTGRES_DB}`);
  expect(db.username).toBe(env('postgresql').POSTGRES_USER);
  // API: listens on API_PORT, published and health-checked there.
  const apiPort = String(env('api').API_PORT);
  expect(env('api').API_HOST).toBe('0.0.0.0');
  expect(services.api.ports).toContain(`${apiPort}:${apiPort}`);
  expect(services.api.healthcheck!.test.join(' ')).toContain(`:${apiPort}/healthz`);
  expect(resolved(env('api').API_URL)).toBe(`http://localhost:${apiPort}`);
  // Web UI: the URL the API puts in links and allows for CORS is where the UI is published.
  const uiUrl = new URL(String(env('api').TEMPORAL_UI_URL));
  expect(services['temporal-ui'].ports!.some((p) => p.endsWith(`:${uiUrl.port}:8080`) || p === `${uiUrl.port}:8080`)).toBe(true);
  // Apps wait for the schema and the search attributes.
  for (const name of ['api', 'worker']) {
    expect(services[name].depends_on?.['temporal-setup']?.condition).toBe('service_completed_successfully');
    expect(services[name].depends_on?.postgresql?.condition).toBe('service_healthy');
  }
});

test("the Web UI's codec endpoint reaches the API's codec routes through the proxy", async () => {
  const endpoint = new URL(String(env('temporal-ui').TEMPORAL_CODEC_ENDPOINT));
  expect(endpoint.pathname).toBe('/codec');
  expect(services['codec-proxy'].ports).toContain(`127.0.0.1:${endpoint.port}:${endpoint.port}`);
  const template = read('deploy/codec-proxy/default.conf.template');
  expect(template).toContain(`listen ${endpoint.port};`);
  expect(template).toMatch(/location ~ \^\/codec\/\(encode\|decode\)\$/);
  expect(template).toContain('proxy_set_header Authorization "Bearer ${CODEC_API_KEY}";');
  expect(template).toMatch(/location \/ \{\s*return 404;/);
  const upstream = new URL(String(env('codec-proxy').API_UPSTREAM));
  expect(upstream.hostname).toBe('api');
  expect(upstream.port).toBe(String(env('api').API_PORT));
  expect(services['codec-proxy'].volumes).toContain(
    './deploy/codec-proxy/default.conf.template:/etc/nginx/templates/default.conf.template:ro',
  );
  expect(env('api').CODEC_REQUIRE_API_KEY).toBe('true');

  // The API really serves POST /codec/encode and /codec/decode.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hsd-compose-'));
  const config = loadConfig({ DATA_DIR: dataDir, API_KEYS: 'compose-test-key-0123456789' });
  const svc = await createServices(config);
  const api = await buildApi({ config, client: {} as Client, services: svc, logger: createLogger({ level: 'silent' }) });
  try {
    for (const op of ['encode', 'decode']) expect(api.hasRoute({ method: 'POST', url: `${endpoint.pathname}/${op}` })).toBe(true);
  } finally {
    await api.close();
    await svc.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the one-shot setup registers every search attribute the code uses, as Keyword', () => {
  const s = services['temporal-setup'];
  expect(s.command).toEqual(['/deploy/setup-namespace.sh']);
  expect(s.volumes).toContain('./deploy/temporal:/deploy:ro');
  const script = read('deploy/temporal/setup-namespace.sh');
  const declared = /SEARCH_ATTRIBUTES="([^"]+)"/.exec(script)![1].split(/\s+/);
  expect(declared.sort()).toEqual(SEARCH_ATTRIBUTES.map((k) => k.name).sort());
  expect(script).toContain('search-attribute create');
  expect(script).toContain('--type Keyword');
  expect(services['temporal-schema'].command).toEqual(['/deploy/setup-postgres.sh']);
});

test('mounted files exist, and every variable the file reads is documented in .env.example', () => {
  for (const s of Object.values(services)) {
    for (const v of s.volumes ?? []) {
      const src = v.split(':')[0];
      if (src.startsWith('./')) expect({ v, exists: fs.existsSync(path.join(ROOT, src)) }).toEqual({ v, exists: true });
    }
  }
  const example = read('.env.example');
  const used = new Set([...raw.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]));
  for (const name of used) expect({ name, documented: new RegExp(`^#? ?${name}=`, 'm').test(example) }).toEqual({ name, documented: true });
  // Named volumes: PostgreSQL's data and the shared secrets keyring.
  expect(Object.keys(compose.volumes ?? {}).sort()).toEqual(['destination-keys', 'postgres-data']);
});
