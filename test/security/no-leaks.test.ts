/**
 * THE leak test. A full activation (with rejections, a too-long record, a revoked token, a token
 * rotation through the API, a re-run of the rejected members), a streaming session, and CLI commands,
 * all with known tokens and known member emails. Then every workflow history Temporal stores is
 * exported with the official CLI (no codec), every log line of the API, worker and Temporal runtime is
 * captured, and the store's files are read: neither a token nor an email (nor a member's unique last
 * name) may appear in plaintext, base64, base64url, URL-encoded or hex form. API responses and CLI output
 * must never carry a token. And every payload Temporal stores must be encrypted.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { InjectOptions } from 'light-my-request';
import { generateProfileObjects, SAMPLE_AUDIENCES, type SampleProfile } from '../../src/members/sample-profiles';
import { ENCODING_ENCRYPTED } from '../../src/temporal/codec';
import { quietRuntime, startStack, TEST_API_KEY, waitFor, type TestStack } from '../helpers/stack';
import { captureLogs, exportAllWorkflows, findLeaks, payloadsIn, temporalCli, type ExportedExecution } from './leak-check';
import { runStreamingSession, type StreamingOutcome } from './streaming-scenario';

jest.setTimeout(300_000);

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const capture = captureLogs();
quietRuntime(capture.runtimeLogger); // before the stack starts Temporal: SDK, workflow and activity logs are captured too

const nonce = crypto.randomBytes(4).toString('hex');
const AUDIENCE = SAMPLE_AUDIENCES[0];
const MAX_LINE_BYTES = 2048;

/** Members with unique, recognisable emails and last names (so any copy of them is a leak). */
function members(prefix: string, count: number, seed: number): SampleProfile[] {
  return [...generateProfileObjects({ count, seed, membershipRates: [1, 0.5, 0.5] })].map((p, i) => ({
    ...p,
    identityMap: { Email: [{ id: `${prefix}.${nonce}.${i}@leakcheck.example`, primary: true }] },
    person: { ...p.person, name: { firstName: p.person.name.firstName, lastName: `Qzx${prefix}${nonce}${i}` } },
  }));
}

const batch = members('batch', 30, 3);
const invalid = members('broken', 2, 4).map((p, i) => ({
  ...p,
  identityMap: { Email: [{ id: `broken.${nonce}.${i}.at.leakcheck.example`, primary: true }] },
}));
const tooLong = { ...members('long', 1, 5)[0], _pad: 'x'.repeat(MAX_LINE_BYTES + 100) };
const streamed = members('stream', 12, 6);

const emailOf = (p: SampleProfile) => p.identityMap.Email[0].id;
const PII = [...batch, ...invalid, tooLong, ...streamed].flatMap((p) => [emailOf(p), p.person.name.lastName]);

let stack: TestStack;
const tokens: string[] = [];
const apiResponses: Array<{ where: string; text: string }> = [];
const cliOutput: Array<{ where: string; text: string }> = [];
let streaming: StreamingOutcome = 'not-available';
let exported: { list: string; executions: ExportedExecution[] };
const activationIds: string[] = [];
let failedActivationId = '';
let codecApiUrl = '';

async function api(opts: InjectOptions) {
  const res = await stack.request(opts);
  apiResponses.push({ where: `${opts.method} ${opts.url} → ${res.statusCode}`, text: `${JSON.stringify(res.headers)}\n${res.body}` });
  return res;
}

async function waitForEnd(activationId: string) {
  return waitFor(
    async () => {
      const body = (await api({ method: 'GET', url: `/v1/activations/${activationId}` })).json();
      return ['completed', 'completed_with_rejections', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 300, what: `activation ${activationId}` },
  );
}

async function cli(args: string[], apiUrl: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(
      path.join(ROOT, 'node_modules', '.bin', 'tsx'),
      [path.join(ROOT, 'src', 'cli', 'main.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, API_URL: apiUrl, API_KEY: TEST_API_KEY, DATA_DIR: stack.dataDir, HUBSPOT_TOKEN: '' },
        timeout: 60_000,
      },
    );
    cliOutput.push({ where: `cli ${args[0]} ${args[1] ?? ''}`, text: stdout + stderr });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    cliOutput.push({ where: `cli ${args[0]} ${args[1] ?? ''} (failed)`, text: out });
    return { code: typeof e.code === 'number' ? e.code : 1, out };
  }
}

beforeAll(async () => {
  stack = await startStack({ logger: capture.logger, env: { MAX_LINE_BYTES: String(MAX_LINE_BYTES), ACTIVATION_PAGE_SIZE: '10' } });

  // 1. A destination on a fresh HubSpot account (the simulator's URL is on the allow-list).
  const account = stack.sim.admin.createAccount({ tier: 'pro' });
  tokens.push(account.token);
  const created = await api({
    method: 'POST',
    url: '/v1/destinations',
    payload: {
      name: 'Leak check',
      hubspot: { token: account.token, baseUrl: stack.sim.url },
      mapping: {
        attributes: [
          { source: 'person.name.firstName', target: 'firstname' },
          { source: 'person.name.lastName', target: 'lastname' },
        ],
      },
    },
  });
  expect(created.statusCode).toBe(201);
  const destinationId = created.json().id as string;

  // 2. Upload members (valid, invalid emails, one record over MAX_LINE_BYTES) and activate them.
  const ndjson = [...batch.slice(0, 15), ...invalid, tooLong, ...batch.slice(15)].map((p) => JSON.stringify(p)).join('\n') + '\n';
  const uploaded = await api({
    method: 'POST',
    url: '/v1/uploads?filename=members.ndjson',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: ndjson,
  });
  expect(uploaded.statusCode).toBe(201);
  const uploadId = uploaded.json().uploadId as string;
  const start = async () => {
    const res = await api({
      method: 'POST',
      url: `/v1/destinations/${destinationId}/activations`,
      payload: { audience: AUDIENCE, source: { uploadId } },
    });
    expect(res.statusCode).toBe(202);
    activationIds.push(res.json().activationId);
    return res.json().activationId as string;
  };
  const first = await start();
  const done = await waitForEnd(first);
  expect(done.status).toBe('completed_with_rejections');
  expect(done.summary).toMatchObject({ received: 33, upserted: 30, rejected: 3 });
  expect(done.summary.rejectedByReason.LINE_TOO_LONG).toBe(1); // the long record is rejected on its own
  for (const p of batch) expect(stack.sim.admin.getContact(account.portalId, emailOf(p))).toBeDefined();

  // 3. Re-run only the rejected members (read back from the sealed rejection store).
  const rerunRejected = await api({ method: 'POST', url: `/v1/activations/${first}/rerun`, payload: { mode: 'rejected' } });
  expect(rerunRejected.statusCode).toBe(202);
  activationIds.push(rerunRejected.json().activationId);
  expect((await waitForEnd(rerunRejected.json().activationId)).status).toBe('completed_with_rejections');

  // 4. The token is rotated at HubSpot: the next run fails once, clearly; the API rotates it without re-creating the destination.
  const rotated = stack.sim.admin.rotateToken(account.portalId, account.token);
  tokens.push(rotated.token);
  const failing = await start();
  failedActivationId = failing;
  const failed = await waitForEnd(failing);
  expect(failed.status).toBe('failed');
  expect(failed.failure.type).toBe('HubSpotAuthFailed');
  const patched = await api({ method: 'PATCH', url: `/v1/destinations/${destinationId}`, payload: { hubspot: { token: rotated.token } } });
  expect(patched.statusCode).toBe(200);
  expect(patched.json().id).toBe(destinationId);
  const again = await start();
  expect((await waitForEnd(again)).status).toBe('completed_with_rejections');

  // 5. Streaming session (see streaming-scenario.ts).
  streaming = await runStreamingSession(stack, {
    destinationId,
    portalId: account.portalId,
    profiles: streamed,
    emails: streamed.map(emailOf),
  });

  // 6. The CLI against the listening API: create (with a token), read, list, status, a failing create.
  await stack.api.listen({ host: '127.0.0.1', port: 0 });
  const addr = stack.api.server.address() as { port: number };
  const apiUrl = `http://127.0.0.1:${addr.port}`;
  codecApiUrl = apiUrl;
  const other = stack.sim.admin.createAccount({ tier: 'starter' });
  tokens.push(other.token);
  const cliCreate = await cli(
    [
      'destinations',
      'create',
      '--name',
      'via cli',
      '--token',
      other.token,
      '--base-url',
      stack.sim.url,
      '--map',
      'person.name.firstName=firstname',
    ],
    apiUrl,
  );
  expect(cliCreate.code).toBe(0);
  const cliId = cliCreate.out.trim().split('\n').pop()!;
  expect((await cli(['destinations', 'get', cliId], apiUrl)).code).toBe(0);
  await cli(['destinations', 'list'], apiUrl);
  await cli(['status', failing], apiUrl);
  await cli(['list'], apiUrl);
  const badToken = `pat-na1-${crypto.randomUUID()}`;
  tokens.push(badToken);
  const cliBad = await cli(
    [
      'destinations',
      'create',
      '--name',
      'bad',
      '--token',
      badToken,
      '--base-url',
      stack.sim.url,
      '--map',
      'person.name.firstName=firstname',
    ],
    apiUrl,
  );
  expect(cliBad.code).not.toBe(0);
  const cliDisallowed = await cli(
    ['destinations', 'create', '--name', 'ssrf', '--token', badToken, '--base-url', 'http://169.254.169.254', '--map', 'a=firstname'],
    apiUrl,
  );
  expect(cliDisallowed.code).not.toBe(0);
  expect(cliDisallowed.out).toMatch(/not allowed/);

  // 7. Everything Temporal stores, as its own CLI exports it.
  exported = await exportAllWorkflows(stack.env.address);
});

afterAll(async () => {
  await stack?.close();
});

const historyTexts = () => [
  { where: 'temporal workflow list', text: exported.list },
  ...exported.executions.flatMap((e) => [
    { where: `history ${e.type} ${e.workflowId}/${e.runId}`, text: e.history },
    { where: `describe ${e.type} ${e.workflowId}/${e.runId}`, text: e.describe },
  ]),
];

test('the export and the log capture saw the runs (the checks below are not vacuous)', () => {
  const types = new Set(exported.executions.map((e) => e.type));
  expect([...types]).toEqual(expect.arrayContaining(['activateAudience', 'configureDestination']));
  for (const id of activationIds) expect(exported.executions.some((e) => e.workflowId === id)).toBe(true);
  expect(exported.executions.length).toBeGreaterThanOrEqual(activationIds.length + 2);
  expect(capture.lines.length).toBeGreaterThan(20);
  expect(capture.lines.some((l) => l.includes('incoming request'))).toBe(true); // API request logs
  expect(capture.lines.some((l) => l.includes('processPages'))).toBe(true); // runtime (activity) logs
  // The detector finds what is there: the raw upload holds the emails, the sim's account the token.
  expect(findLeaks([{ where: 'upload', text: JSON.stringify(batch) }], PII.slice(0, 2)).length).toBeGreaterThan(0);
  expect(
    findLeaks([{ where: 'b64', text: `xx${Buffer.from(`{"token":"${tokens[0]}"}`).toString('base64')}yy` }], [tokens[0]]),
  ).toHaveLength(1);
  if (streaming === 'not-available') {
    console.warn(
      'no-leaks: the streaming route does not exist yet; the streaming session was skipped (see test/security/streaming-scenario.ts).',
    );
  } else {
    expect([...types]).toContain('destinationStream');
  }
});

test('no token, email or member name in any workflow history, description or listing', () => {
  expect(findLeaks(historyTexts(), [...tokens, ...PII])).toEqual([]);
});

/**
 * Payloads Temporal's core SDK writes itself, outside the codec: the bookkeeping of local-activity and
 * patch markers (ids, attempt, times; the local activity's result is in `details.result`, encrypted).
 */
const CORE_MARKER_FIELDS: Record<string, Set<string>> = {
  data: new Set([
    'seq',
    'attempt',
    'activityId',
    'activity_id',
    'activityType',
    'activity_type',
    'completeTime',
    'complete_time',
    'backoff',
    'originalScheduleTime',
    'original_schedule_time',
  ]),
  'patch-data': new Set(['id', 'deprecated']),
};

function isCoreMarkerData(p: { path: string; data: string }): boolean {
  const m = /markerRecordedEventAttributes\.details\.(data|patch-data)\.payloads\[0\]$/.exec(p.path);
  if (!m) return false;
  const fields = Object.keys(JSON.parse(p.data) as Record<string, unknown>);
  return fields.every((f) => CORE_MARKER_FIELDS[m[1]].has(f));
}

test('every payload Temporal stores is encrypted (search attributes and core marker bookkeeping aside: ids, statuses, counters)', () => {
  const encodings = new Map<string, number>();
  const unencrypted: string[] = [];
  for (const e of exported.executions) {
    for (const p of payloadsIn(JSON.parse(e.history))) {
      encodings.set(p.encoding, (encodings.get(p.encoding) ?? 0) + 1);
      if (p.encoding === ENCODING_ENCRYPTED || /searchAttributes|indexedFields/.test(p.path) || isCoreMarkerData(p)) continue;
      unencrypted.push(`${e.type} ${p.path}: ${p.encoding} ${p.data.slice(0, 200)}`);
    }
  }
  expect(encodings.get(ENCODING_ENCRYPTED)).toBeGreaterThan(50);
  expect(unencrypted).toEqual([]);
  // Failure messages are encoded: no plain failure text in histories.
  const failedRun = exported.executions.find((e) => e.workflowId === failedActivationId);
  expect(failedRun).toBeDefined();
  expect(failedRun!.history).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
  expect(failedRun!.history).toContain('"message": "Encoded failure"');
  expect(failedRun!.history).toContain('"type": "HubSpotAuthFailed"'); // the failure type stays readable (not secret)
  expect(failedRun!.history).not.toMatch(/HubSpot rejected the token|stackTrace": "[^"]/);
});

test('no token, email or member name in any log line', () => {
  // LEAK_DUMP=/some/file keeps the captured lines for a look when this fails.
  if (process.env.LEAK_DUMP) fs.writeFileSync(process.env.LEAK_DUMP, capture.lines.join('\n'));
  expect(
    findLeaks(
      capture.lines.map((text, i) => ({ where: `log line ${i}`, text })),
      [...tokens, ...PII],
    ),
  ).toEqual([]);
});

test('no token in any API response or CLI output', () => {
  expect(apiResponses.length).toBeGreaterThan(10);
  expect(cliOutput.length).toBeGreaterThanOrEqual(7);
  expect(findLeaks([...apiResponses, ...cliOutput], tokens)).toEqual([]);
});

test('the store holds no token or email in plaintext (tokens and rejections are sealed)', () => {
  const texts: Array<{ where: string; text: string }> = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      // Uploads and source files are the members' data by design; keys are keys.
      if (entry.isDirectory()) {
        if (!['uploads', 'samples', 'sources', 'keys'].includes(entry.name)) walk(full);
      } else {
        texts.push({ where: path.relative(stack.dataDir, full), text: fs.readFileSync(full).toString('latin1') });
      }
    }
  };
  walk(stack.dataDir);
  expect(texts.some((t) => t.where.startsWith('destination.db'))).toBe(true);
  expect(findLeaks(texts, [...tokens, ...PII])).toEqual([]);
});

test("the codec server decodes histories for Temporal's own CLI (as for the Web UI), with the API key only", async () => {
  const conn = [
    '--address',
    stack.env.address,
    '--workflow-id',
    activationIds[0],
    '--output',
    'json',
    '--codec-endpoint',
    `${codecApiUrl}/codec`,
  ];
  const decoded = JSON.parse(await temporalCli(['workflow', 'show', ...conn, '--codec-auth', `Bearer ${TEST_API_KEY}`]));
  const payloads = payloadsIn(decoded);
  expect(payloads.some((p) => p.encoding === ENCODING_ENCRYPTED)).toBe(false);
  const input = payloads.find((p) => p.path.includes('workflowExecutionStartedEventAttributes.input'));
  expect(input?.encoding).toBe('json/plain');
  expect(JSON.parse(input!.data)).toMatchObject({ activationId: activationIds[0], audience: AUDIENCE });
  // A wrong key gets nothing decoded.
  await expect(temporalCli(['workflow', 'show', ...conn, '--codec-auth', 'Bearer wrong-key'])).rejects.toThrow();
});
