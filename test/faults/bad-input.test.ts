/**
 * Fault test 5: the bad-input corpus (invalid and missing emails, duplicates differing in case, values of
 * the wrong type, unknown options, over-long strings, malformed CSV rows and NDJSON lines, unknown
 * statuses) produces exactly the expected rejections and nothing else — end to end. Then the user fixes
 * a property in HubSpot and re-runs only the rejected members.
 */
import axios from 'axios';
import { accountingError } from '../../src/delivery/counts';
import {
  corpusAudience,
  corpusAudiencePropertyName,
  corpusExpected,
  corpusMapping,
  corpusProperties,
  materializeBadInputCorpus,
  type ExpectedOutcome,
} from '../fixtures/bad-input/corpus';
import { startActivation, waitForEnd } from '../helpers/activation';
import { startStack, type TestStack } from '../helpers/stack';

jest.setTimeout(180_000);

let stack: TestStack;
let destinationId: string;
let portalId: number;
let token: string;
let files: { ndjsonPath: string; csvPath: string };

beforeAll(async () => {
  stack = await startStack();
  files = materializeBadInputCorpus(`${stack.dataDir}/samples/bad-input`);
  const account = stack.sim.admin.createAccount({});
  portalId = account.portalId;
  token = account.token;
  // The corpus's custom properties, created in the HubSpot account as a user would.
  for (const p of corpusProperties.filter((x) => !x.hubspotDefined)) {
    const res = await axios.post(
      `${stack.sim.url}/crm/v3/properties/contacts`,
      {
        name: p.name,
        label: p.label,
        type: p.type,
        fieldType: p.fieldType,
        groupName: p.groupName,
        options: p.options,
      },
      { headers: { Authorization: `Bearer ${token}` }, validateStatus: () => true },
    );
    expect(res.status).toBe(201);
  }
  const res = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: { name: 'corpus', hubspot: { token, baseUrl: stack.sim.url }, mapping: corpusMapping },
  });
  expect(res.statusCode).toBe(201);
  destinationId = res.json().id;
});
afterAll(async () => {
  await stack?.close();
});

function tally(outcomes: ExpectedOutcome[], kind: 'rejected' | 'skipped'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) if (o.outcome === kind) out[o.code] = (out[o.code] ?? 0) + 1;
  return out;
}

async function rejections(activationId: string) {
  const res = await stack.request({ method: 'GET', url: `/v1/activations/${activationId}/rejections?limit=1000` });
  expect(res.statusCode).toBe(200);
  return res.json().items as Array<{ line: number; email?: string; reason: { code: string; field?: string; message: string } }>;
}

async function runAndCheck(file: string, expected: ExpectedOutcome[]): Promise<string> {
  const activationId = await startActivation(stack, destinationId, { path: file }, corpusAudience);
  const end = await waitForEnd(stack, activationId);
  expect(end.status).toBe('completed_with_rejections');
  const s = end.summary;
  expect(accountingError(s)).toBeUndefined();
  expect(s.received).toBe(expected.length);
  expect(s.upserted).toBe(expected.filter((e) => e.outcome === 'ready').length);
  expect(s.rejectedByReason).toEqual(tally(expected, 'rejected'));
  expect(s.skippedByReason).toEqual(tally(expected, 'skipped'));

  // Every rejection is stored with its line and reason — exactly the expected ones.
  const stored = await rejections(activationId);
  const want = expected.filter((e) => e.outcome === 'rejected').map((e) => [e.line, (e as { code: string }).code]);
  expect(stored.map((r) => [r.line, r.reason.code]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(want);
  for (const r of stored) expect(r.reason.message.length).toBeGreaterThan(0);

  // Exactly the ready records landed, with exactly the expected values.
  for (const e of expected) {
    if (e.outcome !== 'ready') continue;
    const c = stack.sim.admin.getContact(portalId, e.properties.email);
    expect(c?.properties).toMatchObject(e.properties);
  }
  return activationId;
}

test('NDJSON corpus: exactly the expected rejections and skips; the good records land exactly', async () => {
  const before = stack.sim.admin.contactCount(portalId);
  await runAndCheck(files.ndjsonPath, corpusExpected['profiles.ndjson']);
  expect(stack.sim.admin.contactCount(portalId) - before).toBe(
    corpusExpected['profiles.ndjson'].filter((e) => e.outcome === 'ready').length,
  );
});

test('CSV corpus: exactly the expected rejections and skips; the good records land exactly', async () => {
  await runAndCheck(files.csvPath, corpusExpected['members.csv']);
});

test('after fixing a property in HubSpot, re-running only the rejected members sends the now-valid ones', async () => {
  const first = await startActivation(stack, destinationId, { path: files.ndjsonPath }, corpusAudience);
  const firstEnd = await waitForEnd(stack, first);
  const rejectedBefore = firstEnd.summary.rejected;
  const fixable = (await rejections(first)).filter((r) => r.reason.code === 'INVALID_OPTION' && r.reason.field === 'interests');
  expect(fixable).toHaveLength(1);

  // The user adds the missing option to the `interests` property in HubSpot.
  const interests = corpusProperties.find((p) => p.name === 'interests')!;
  const patched = await axios.patch(
    `${stack.sim.url}/crm/v3/properties/contacts/interests`,
    {
      options: [...interests.options, { label: 'Cooking', value: 'cooking', hidden: false }],
    },
    { headers: { Authorization: `Bearer ${token}` }, validateStatus: () => true },
  );
  expect(patched.status).toBe(200);

  const rerun = await stack.request({ method: 'POST', url: `/v1/activations/${first}/rerun`, payload: { mode: 'rejected' } });
  expect(rerun.statusCode).toBe(202);
  const end = await waitForEnd(stack, rerun.json().activationId);
  expect(end.rerunOf).toBe(first);
  expect(accountingError(end.summary)).toBeUndefined();
  expect(end.summary.received).toBe(rejectedBefore);
  expect(end.summary.upserted).toBe(1);
  expect(end.summary.rejected).toBe(rejectedBefore - 1);
  expect(stack.sim.admin.getContact(portalId, fixable[0].email!)?.properties).toMatchObject({
    interests: 'sports;cooking',
    [corpusAudiencePropertyName]: 'realized',
  });
});
