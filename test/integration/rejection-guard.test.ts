/**
 * The rejection guard (issue 17) on real parts: a run whose rejected share passes maxRejectedPercent stops
 * sending at once, fails with REJECTION_LIMIT (figures and top reasons), alerts activation.failed, keeps
 * its rejections, and `rerun {mode: "rejected"}` sends them once the cause is fixed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { createLogger } from '../../src/logger';
import { AUDIENCE, waitForEnd } from '../helpers/activation';
import { activateWith, callsTo, members, writeProfiles } from '../helpers/safe-runs';
import { DEFAULT_MAPPING, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(300_000);

let stack: TestStack;
let receiver: http.Server;
let base: string;
const alerts: Array<{ type: string; activationId?: string; failure?: { type?: string; message: string } }> = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      alerts.push(JSON.parse(raw));
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  // Pages of 200 members, so the guard has several pages to judge: runs with the change memory read
  // pages 5 × ACTIVATION_PAGE_SIZE (docs/dataflows.md, "Calls per change").
  stack = await startStack({
    env: { ALERT_ALLOW_PRIVATE_URLS: 'true', ACTIVATION_PAGE_SIZE: '40' },
    logger: createLogger({ level: 'error', name: 'test' }),
  });
});
afterAll(async () => {
  await stack?.close();
  await new Promise((r) => receiver?.close(r));
});

const TIERS = ['gold', 'silver'];

test('30% bad records near the bound: stopped with REJECTION_LIMIT, nothing sent after it, re-run of the rejected after the fix', async () => {
  const account = stack.sim.admin.createAccount({ tier: 'pro' });
  const hs = axios.create({ baseURL: stack.sim.url, headers: { Authorization: `Bearer ${account.token}` }, validateStatus: () => true });
  const created = await hs.post('/crm/v3/properties/contacts', {
    name: 'tier',
    label: 'Tier',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'contactinformation',
    options: TIERS.map((t, i) => ({ label: t, value: t, displayOrder: i })),
  });
  expect(created.status).toBe(201);
  // A destination on this account (it holds the tier property).
  const res = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: {
      name: 'Guarded',
      hubspot: { token: account.token, baseUrl: stack.sim.url },
      mapping: { attributes: [...DEFAULT_MAPPING.filter((m) => m.target !== 'country'), { source: 'loyalty.tier', target: 'tier' }] },
    },
  });
  expect(res.statusCode).toBe(201);
  const dst = res.json<{ id: string }>().id;
  await stack.request({
    method: 'POST',
    url: `/v1/destinations/${dst}/alerts`,
    payload: { url: `${base}/hook`, events: ['activation.failed'] },
  });

  // Lines 1–400 good; 401–1000 half bad ("bronze" is not an option): 300 of 1000 bad (30%). Per page of
  // 200 the rejected share read so far is 0, 0, 16.7, 25.0, then 30% > 25: the guard trips on page 5.
  const list = members(1000, 'guard', (i) => ({ tier: i >= 400 && i % 2 === 1 ? 'bronze' : TIERS[i % 2] }));
  const file = writeProfiles(stack, 'guard', list);
  const upsertsBefore = callsTo(stack, 'batch/upsert');
  const activationId = await activateWith(stack, dst, file, { maxRejectedPercent: 25 });
  const end = await waitForEnd(stack, activationId, 240_000);
  expect(end.status).toBe('failed');
  expect(end.failure.type).toBe('REJECTION_LIMIT');
  expect(end.failure.message).toContain('300 of the 1000 members read so far were rejected (30.0%)');
  expect(end.failure.message).toContain('INVALID_OPTION 300');
  // Pages 1–4 were sent (600 good members: 2 batches on pages 1–2, 1 on pages 3–4); nothing of page 5.
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(600);
  expect(callsTo(stack, 'batch/upsert') - upsertsBefore).toBe(6);
  for (const m of list.slice(800)) expect(stack.sim.admin.getContact(account.portalId, m.email)).toBeUndefined();
  // The rejections so far are kept.
  const rejections = await stack.request({ method: 'GET', url: `/v1/activations/${activationId}/rejections?limit=1000` });
  expect(rejections.json().items).toHaveLength(300);
  await waitFor(() => alerts.find((a) => a.type === 'activation.failed' && a.activationId === activationId), { what: 'failed alert' });
  const alert = alerts.find((a) => a.type === 'activation.failed' && a.activationId === activationId)!;
  expect(alert.failure).toMatchObject({ type: 'REJECTION_LIMIT' });
  expect(alert.failure!.message).toContain('maxRejectedPercent 25%');

  // Fix the cause (add the option), then re-run the rejected members.
  const patched = await hs.patch('/crm/v3/properties/contacts/tier', {
    options: [...TIERS, 'bronze'].map((t, i) => ({ label: t, value: t, displayOrder: i })),
  });
  expect(patched.status).toBe(200);
  const rerun = await stack.request({ method: 'POST', url: `/v1/activations/${activationId}/rerun`, payload: { mode: 'rejected' } });
  expect(rerun.statusCode).toBe(202);
  const again = await waitForEnd(stack, rerun.json().activationId, 240_000);
  expect(again.status).toBe('completed');
  expect(again.summary).toMatchObject({ received: 300, upserted: 300, rejected: 0 });
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(900);
  expect(stack.sim.admin.getContact(account.portalId, list[401].email)?.properties.tier).toBe('bronze');
});

test('the same run under a bound it does not pass completes', async () => {
  const res = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: (() => {
      const account = stack.sim.admin.createAccount({ tier: 'pro' });
      return { name: 'Loose', hubspot: { token: account.token, baseUrl: stack.sim.url }, mapping: { attributes: DEFAULT_MAPPING } };
    })(),
  });
  const dst = res.json<{ id: string }>().id;
  // 30% invalid emails, bound 35%.
  const list = members(500, 'loose', (i) => (i % 10 < 3 ? { email: `not-an-email-${i}` } : {}));
  const activationId = await activateWith(stack, dst, writeProfiles(stack, 'loose', list), { maxRejectedPercent: 35 });
  const end = await waitForEnd(stack, activationId, 240_000);
  expect(end.status).toBe('completed_with_rejections');
  expect(end.summary).toMatchObject({ received: 500, upserted: 350, rejected: 150 });
});

test("a destination's default bound guards runs that set none; a run's own bound overrides it", async () => {
  const account = stack.sim.admin.createAccount({ tier: 'pro' });
  const res = await stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: {
      name: 'Strict',
      hubspot: { token: account.token, baseUrl: stack.sim.url },
      mapping: { attributes: DEFAULT_MAPPING },
      runDefaults: { maxRejectedPercent: 10 },
    },
  });
  expect(res.statusCode).toBe(201);
  const dst = res.json<{ id: string }>().id;
  expect((await stack.request({ method: 'GET', url: `/v1/destinations/${dst}` })).json().runDefaults).toEqual({ maxRejectedPercent: 10 });
  const list = members(300, 'strict', (i) => (i % 10 < 3 ? { email: `not-an-email-${i}` } : {}));
  const file = writeProfiles(stack, 'strict', list);
  const res1 = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${dst}/activations`,
    payload: { audience: AUDIENCE, source: { path: file } },
  });
  const stopped = await waitForEnd(stack, res1.json().activationId, 240_000);
  expect(stopped.status).toBe('failed');
  expect(stopped.failure.type).toBe('REJECTION_LIMIT');
  expect(stopped.failure.message).toContain('INVALID_EMAIL');
  expect(stack.sim.admin.contactCount(account.portalId)).toBe(0);

  const own = await waitForEnd(stack, await activateWith(stack, dst, file, { maxRejectedPercent: 50 }), 240_000);
  expect(own.status).toBe('completed_with_rejections');
  // Cleared with null.
  const cleared = await stack.request({ method: 'PATCH', url: `/v1/destinations/${dst}`, payload: { runDefaults: null } });
  expect(cleared.statusCode).toBe(200);
  expect(cleared.json().runDefaults).toBeUndefined();
});
