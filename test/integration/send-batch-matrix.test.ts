/**
 * Batch delivery against every answer HubSpot may give where it leaves the behaviour open (the
 * simulator's per-account `upsertPartial` × `echoTraceIds` × the empty-results fault): nothing is lost in
 * any (received = upserted + rejected), an empty answer is never counted as upserted, and a whole-batch
 * 400 that names the bad values costs a bounded number of extra calls instead of a bisection.
 */
import { HubSpotClient } from '../../src/hubspot/client';
import { sendBatch, type BatchOutcome } from '../../src/delivery/send-batch';
import { startHubSpotSimulator, type RunningSimulator } from '../../src/hubspot-sim';
import type { PreparedContact } from '../../src/mapping/types';
import { UPSERT_ROUTE } from '../helpers/activation';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startHubSpotSimulator({ port: 0 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.admin.clearFaults();
  sim.admin.resetStats();
});

const noSleep = { sleep: async () => undefined };
const client = (token: string) => new HubSpotClient({ baseUrl: sim.url, token, timeoutMs: 2000 });

/** `n` contacts; those in `bad` carry a lifecycle stage only HubSpot can refuse (the value is not an option). */
function contacts(n: number, bad: number[], prefix: string): PreparedContact[] {
  return Array.from({ length: n }, (_, i) => {
    const email = `${prefix}${i}@example.com`;
    const properties: Record<string, string> = { email, firstname: `F${i}` };
    if (bad.includes(i)) properties.lifecyclestage = `stage-${i}`;
    return { line: i + 1, email, status: 'realized' as const, properties };
  });
}

const upsertCalls = (): number => Object.values(sim.admin.stats().byRoute[UPSERT_ROUTE] ?? {}).reduce((a, b) => a + b, 0);
const lines = (xs: Array<{ contact: PreparedContact }>): number[] => xs.map((x) => x.contact.line).sort((a, b) => a - b);

function expectNothingLost(out: BatchOutcome, sent: PreparedContact[]): void {
  const all = [...lines(out.upserted), ...lines(out.rejected)].sort((a, b) => a - b);
  expect(all).toEqual(sent.map((c) => c.line));
}

const MODES = ['per-record', 'all-or-nothing'] as const;
const ECHO = [true, false];
/** Empty-results answers in a row: none, one (re-sent and confirmed), three (more than the one re-send). */
const EMPTY = [0, 1, 3];

describe.each(MODES.flatMap((m) => ECHO.flatMap((e) => EMPTY.map((x) => [m, e, x] as const))))(
  'upsertPartial=%s echoTraceIds=%s emptyResults in a row=%s',
  (upsertPartial, echoTraceIds, emptyResults) => {
    test('every contact is upserted or rejected; bad ones are rejected with HubSpot’s code; empty answers are never upserts', async () => {
      const { portalId, token } = sim.admin.createAccount({});
      sim.admin.setBehaviour(portalId, { upsertPartial, echoTraceIds });
      if (emptyResults) sim.admin.setFaults({ emptyResultsBurst: emptyResults });
      const sent = contacts(100, [7, 64], `m${upsertPartial}${echoTraceIds}${emptyResults}-`);
      const out = await sendBatch(client(token), sent, noSleep);
      expectNothingLost(out, sent);
      const rejected = new Map(out.rejected.map((r) => [r.contact.line, r.reason.code]));
      // The bad ones are never upserted: refused by HubSpot, or (answers left empty twice) unconfirmed.
      const badCodes = emptyResults > 1 ? ['INVALID_OPTION', 'HUBSPOT_UNCONFIRMED'] : ['INVALID_OPTION'];
      expect(badCodes).toContain(rejected.get(8));
      expect(badCodes).toContain(rejected.get(65));
      for (const [line, code] of rejected) if (line !== 8 && line !== 65) expect(code).toBe('HUBSPOT_UNCONFIRMED');
      if (emptyResults > 1) expect([...rejected.values()]).toContain('HUBSPOT_UNCONFIRMED');
      // What is counted as upserted is really in HubSpot.
      expect(sim.admin.contactCount(portalId)).toBe(out.upserted.length);
      if (!emptyResults) expect(out.upserted).toHaveLength(98);
    });
  },
);

test('all-or-nothing: a whole-batch 400 naming the bad values costs ≤ 4 extra calls per bad record (no bisection)', async () => {
  const { portalId, token } = sim.admin.createAccount({});
  sim.admin.setBehaviour(portalId, { upsertPartial: 'all-or-nothing' });
  const sent = contacts(100, [42], 'one-');
  const out = await sendBatch(client(token), sent, noSleep);
  expect(out.upserted).toHaveLength(99);
  expect(out.rejected.map((r) => [r.contact.line, r.reason.code, r.reason.field])).toEqual([[43, 'INVALID_OPTION', 'lifecyclestage']]);
  expect(upsertCalls() - 1).toBeLessThanOrEqual(4);
  expect(sim.admin.stats().byRoute[UPSERT_ROUTE]).toEqual({ 200: 1, 400: 1 });
});

test('a value several inputs share (lifecyclestage backward for one of them): those inputs are sent alone, the good one is written', async () => {
  const { portalId, token } = sim.admin.createAccount({});
  sim.admin.setBehaviour(portalId, { upsertPartial: 'all-or-nothing' });
  const c = client(token);
  await sendBatch(
    c,
    [{ line: 1, email: 'old@example.com', status: 'realized', properties: { email: 'old@example.com', lifecyclestage: 'customer' } }],
    noSleep,
  );
  sim.admin.resetStats();
  const sent = contacts(50, [], 'shared-');
  sent[10].properties.lifecyclestage = 'lead';
  sent.push({ line: 51, email: 'old@example.com', status: 'realized', properties: { email: 'old@example.com', lifecyclestage: 'lead' } });
  const out = await sendBatch(c, sent, noSleep);
  expectNothingLost(out, sent);
  expect(out.rejected.map((r) => [r.contact.line, r.reason.code])).toEqual([[51, 'INVALID_OPTION']]);
  // 400, the rest, then the two holders of `lead` alone.
  expect(upsertCalls()).toBe(4);
});

test('an answer that names nothing any input holds falls back to bisection', async () => {
  const { portalId, token } = sim.admin.createAccount({});
  sim.admin.setBehaviour(portalId, { upsertPartial: 'all-or-nothing' });
  const sent = contacts(20, [], 'unnamed-');
  sent[5].properties.no_such_property = 'x';
  const out = await sendBatch(client(token), sent, noSleep);
  expectNothingLost(out, sent);
  expect(out.rejected.map((r) => [r.contact.line, r.reason.code])).toEqual([[6, 'PROPERTY_DOESNT_EXIST']]);
  expect(upsertCalls()).toBeGreaterThan(2);
});
