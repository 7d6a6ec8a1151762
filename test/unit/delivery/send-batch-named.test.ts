/**
 * HTTP boundary (nock) of a whole-batch 400 that names the bad values: the inputs holding them are
 * rejected from the answer and the rest re-sent at once; an answer naming nothing is bisected.
 */
import nock from 'nock';
import { HubSpotClient, namedProblems } from '../../../src/hubspot/client';
import { HubSpotApiError } from '../../../src/hubspot/errors';
import { sendBatch } from '../../../src/delivery/send-batch';
import type { PreparedContact } from '../../../src/mapping/types';

const BASE = 'https://api.hubapi.test';
const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';
const UPSERT = '/crm/v3/objects/contacts/batch/upsert';
const client = () => new HubSpotClient({ baseUrl: BASE, token: TOKEN, timeoutMs: 2000 });
const noSleep = { sleep: async () => undefined };

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => nock.enableNetConnect());

function contacts(n: number): PreparedContact[] {
  return Array.from({ length: n }, (_, i) => ({
    line: i + 1,
    email: `c${i}@example.com`,
    status: 'realized' as const,
    properties: { email: `c${i}@example.com`, tier: 'gold' },
  }));
}

/** HubSpot's §6.2 body: JSON in `message` plus structured `errors[]`. */
function invalid(problems: Array<{ name: string; error: string; message: string }>) {
  const legacy = problems.map((p) => ({ isValid: false, ...p, localizedErrorMessage: p.message, portalId: 1 }));
  return {
    status: 'error',
    category: 'VALIDATION_ERROR',
    correlationId: 'c-1',
    message: `Property values were not valid: ${JSON.stringify(legacy)}`,
    errors: problems.map((p) => ({ message: p.message, code: p.error, context: { propertyName: [p.name] } })),
  };
}

type Body = { inputs: Array<{ id: string }> };
const ok = (_: string, body: Body) => ({
  status: 'COMPLETE',
  results: body.inputs.map((x, i) => ({ id: String(i + 1), properties: { email: x.id }, new: true })),
});

test('the named input is rejected with the problem HubSpot listed and the other 99 re-sent once', async () => {
  const sent = contacts(100);
  sent[41].properties.tier = 'platinum';
  const seen: number[] = [];
  nock(BASE)
    .post(UPSERT, (b: Body) => b.inputs.length === 100)
    .reply(
      400,
      invalid([{ name: 'tier', error: 'INVALID_OPTION', message: 'platinum was not one of the allowed options: [gold, silver]' }]),
    )
    .post(UPSERT, (b: Body) => {
      seen.push(b.inputs.length);
      return !b.inputs.some((x) => x.id === 'c41@example.com');
    })
    .reply(200, ok);
  const out = await sendBatch(client(), sent, noSleep);
  expect(seen).toEqual([99]);
  expect(out.upserted).toHaveLength(99);
  expect(out.rejected).toEqual([
    {
      contact: sent[41],
      reason: {
        code: 'INVALID_OPTION',
        message: 'platinum was not one of the allowed options: [gold, silver]',
        origin: 'hubspot',
        field: 'tier',
      },
    },
  ]);
});

test('an email problem matches the input by its id, as a whole word (c1@ is not c11@)', async () => {
  const sent = contacts(12);
  nock(BASE)
    .post(UPSERT, (b: Body) => b.inputs.length === 12)
    .reply(400, invalid([{ name: 'email', error: 'INVALID_EMAIL', message: 'Email address c1@example.com is invalid' }]))
    .post(UPSERT, (b: Body) => b.inputs.length === 11)
    .reply(200, ok);
  const out = await sendBatch(client(), sent, noSleep);
  expect(out.rejected.map((r) => r.contact.line)).toEqual([2]);
  expect(out.upserted).toHaveLength(11);
});

test('a value several inputs hold: the rest goes at once, each holder alone', async () => {
  const sent = contacts(4);
  for (const i of [1, 2]) sent[i].properties.lifecyclestage = 'lead';
  nock(BASE)
    .post(UPSERT, (b: Body) => b.inputs.length === 4)
    .reply(400, invalid([{ name: 'lifecyclestage', error: 'INVALID_OPTION', message: 'lead is an earlier lifecycle stage than customer' }]))
    .post(UPSERT, (b: Body) => b.inputs.length === 2 && b.inputs.every((x) => ['c0@example.com', 'c3@example.com'].includes(x.id)))
    .reply(200, ok)
    .post(UPSERT, (b: Body) => b.inputs.length === 1 && b.inputs[0].id === 'c1@example.com')
    .reply(400, invalid([{ name: 'lifecyclestage', error: 'INVALID_OPTION', message: 'lead is an earlier lifecycle stage than customer' }]))
    .post(UPSERT, (b: Body) => b.inputs.length === 1 && b.inputs[0].id === 'c2@example.com')
    .reply(200, ok);
  const out = await sendBatch(client(), sent, noSleep);
  expect(out.rejected.map((r) => [r.contact.line, r.reason.code])).toEqual([[2, 'INVALID_OPTION']]);
  expect(out.upserted.map((u) => u.contact.line).sort()).toEqual([1, 3, 4]);
});

test('an answer that names nothing any input holds is bisected', async () => {
  const sent = contacts(2);
  nock(BASE)
    .post(UPSERT, (b: Body) => b.inputs.length === 2)
    .reply(400, { status: 'error', category: 'VALIDATION_ERROR', message: 'Something is wrong' })
    .post(UPSERT, (b: Body) => b.inputs.length === 1 && b.inputs[0].id === 'c0@example.com')
    .reply(200, ok)
    .post(UPSERT, (b: Body) => b.inputs.length === 1 && b.inputs[0].id === 'c1@example.com')
    .reply(400, { status: 'error', category: 'VALIDATION_ERROR', message: 'Something is wrong' });
  const out = await sendBatch(client(), sent, noSleep);
  expect(out.rejected.map((r) => r.contact.line)).toEqual([2]);
  expect(out.upserted.map((u) => u.contact.line)).toEqual([1]);
});

test('namedProblems reads the structured errors[] when the message has no JSON', () => {
  const err = new HubSpotApiError('validation', 'x', {
    route: UPSERT,
    body: {
      message: 'Property values were not valid',
      errors: [{ message: 'abc is not a valid number', code: 'INVALID_INTEGER', context: { propertyName: ['n'] } }],
    },
  });
  expect(namedProblems(err)).toEqual([{ property: 'n', code: 'INVALID_INTEGER', message: 'abc is not a valid number' }]);
});
