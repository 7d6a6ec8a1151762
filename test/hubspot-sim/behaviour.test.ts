/**
 * Where HubSpot leaves the answer open, a per-account switch plays each answer: `upsertPartial`
 * ("Partial upserts are not supported when using email as the idProperty",
 * https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide), `echoTraceIds`,
 * and the `emptyResults` fault (2xx with empty results, nothing done).
 */
import { startSim, upsertInput, type SimHarness } from './helpers';

const UPSERT = '/crm/objects/2026-03/contacts/batch/upsert';
let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.sim.close());
afterEach(() => h.sim.admin.clearFaults());

const traced = [
  upsertInput('ok1@example.com', { firstname: 'A' }, { objectWriteTraceId: 't1' }),
  upsertInput('ok2@example.com', { firstname: 'B' }, { objectWriteTraceId: 't2' }),
  upsertInput('ok3@example.com', { hs_lead_status: 'NOT_A_STATUS' }, { objectWriteTraceId: 't3' }),
];

describe('upsertPartial', () => {
  test('default "per-record": a traced batch with one bad record → 207, the good ones written', async () => {
    const { portalId, api } = h.account();
    expect(h.sim.admin.getBehaviour(portalId).upsertPartial).toBe('per-record');
    const res = await api.post(UPSERT, { inputs: traced });
    expect(res.status).toBe(207);
    expect(res.data.numErrors).toBe(1);
    expect(res.data.errors[0].context.objectWriteTraceId).toEqual(['t3']);
    expect(h.sim.admin.contactCount(portalId)).toBe(2);
  });

  test('"all-or-nothing": the same batch → whole-batch 400 naming the bad property value; nothing written', async () => {
    const { portalId, api } = h.account({ behaviour: { upsertPartial: 'all-or-nothing' } });
    const res = await api.post(UPSERT, { inputs: traced });
    expect(res.status).toBe(400);
    expect(res.data.category).toBe('VALIDATION_ERROR');
    expect(res.data.message).toMatch(/^Property values were not valid: \[/);
    const listed = JSON.parse((res.data.message as string).slice('Property values were not valid: '.length)) as Record<string, unknown>[];
    expect(listed).toEqual([expect.objectContaining({ isValid: false, error: 'INVALID_OPTION', name: 'hs_lead_status', portalId })]);
    expect(listed[0].message).toContain('NOT_A_STATUS');
    expect(res.data.errors).toEqual([expect.objectContaining({ code: 'INVALID_OPTION', context: { propertyName: ['hs_lead_status'] } })]);
    expect(h.sim.admin.contactCount(portalId)).toBe(0);
    // An all-valid traced batch still answers 200.
    expect((await api.post(UPSERT, { inputs: traced.slice(0, 2) })).status).toBe(200);
    expect(h.sim.admin.contactCount(portalId)).toBe(2);
  });

  test('switchable at run time through the admin API; bad values → 400', async () => {
    const { portalId, api } = h.account();
    const put = await h.anon.put(`/__sim/accounts/${portalId}/behaviour`, { upsertPartial: 'all-or-nothing' });
    expect(put.status).toBe(200);
    expect(put.data).toEqual({ upsertPartial: 'all-or-nothing', echoTraceIds: true, burstScope: 'app', writeRules: [] });
    expect((await h.anon.get(`/__sim/accounts/${portalId}/behaviour`)).data.upsertPartial).toBe('all-or-nothing');
    expect((await api.post(UPSERT, { inputs: traced })).status).toBe(400);
    expect((await h.anon.put(`/__sim/accounts/${portalId}/behaviour`, { upsertPartial: 'some' })).status).toBe(400);
    expect((await h.anon.put(`/__sim/accounts/${portalId}/behaviour`, { nope: true })).status).toBe(400);
    expect((await h.anon.get(`/__sim/accounts/${portalId}`)).data.behaviour.upsertPartial).toBe('all-or-nothing');
  });
});

describe('echoTraceIds', () => {
  const inputs = [
    upsertInput('e1@example.com', {}, { objectWriteTraceId: 'a' }),
    upsertInput('e2@example.com', {}, { objectWriteTraceId: 'b' }),
  ];

  test('default true: each result carries its objectWriteTraceId', async () => {
    const { api } = h.account();
    const res = await api.post(UPSERT, { inputs });
    expect(res.data.results.map((r: { objectWriteTraceId?: string }) => r.objectWriteTraceId).sort()).toEqual(['a', 'b']);
  });

  test('false: results carry none (match them by email); per-record errors still name theirs', async () => {
    const { api } = h.account({ behaviour: { echoTraceIds: false } });
    const res = await api.post(UPSERT, { inputs: [...inputs, upsertInput('bad', {}, { objectWriteTraceId: 'c' })] });
    expect(res.status).toBe(207);
    for (const r of res.data.results) expect(r).not.toHaveProperty('objectWriteTraceId');
    expect(res.data.results.map((r: { properties: { email: string } }) => r.properties.email).sort()).toEqual([
      'e1@example.com',
      'e2@example.com',
    ]);
    expect(res.data.errors[0].context.objectWriteTraceId).toEqual(['c']);
  });
});

describe('emptyResults fault: 2xx with empty results, nothing done', () => {
  test('emptyResultsBurst: the next N upserts answer 200 {results: []} and write nothing, then normal service', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setFaults({ emptyResultsBurst: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await api.post(UPSERT, { inputs: [upsertInput(`silent${i}@example.com`)] });
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ status: 'COMPLETE', results: [], startedAt: expect.any(String), completedAt: expect.any(String) });
    }
    expect(h.sim.admin.contactCount(portalId)).toBe(0);
    expect(h.sim.admin.getFaults().emptyResultsBurst).toBe(0);
    const res = await api.post(UPSERT, { inputs: [upsertInput('loud@example.com')] });
    expect(res.data.results).toHaveLength(1);
    expect(h.sim.admin.stats().faults.emptyResults).toBeGreaterThanOrEqual(2);
  });

  test('applies to batch read and search too; never to routes without results (a burst is not spent on them)', async () => {
    const { api } = h.account();
    await api.post(UPSERT, { inputs: [upsertInput('seen@example.com')] });
    h.sim.admin.setFaults({ emptyResultsBurst: 2 });
    expect((await api.get('/crm/objects/2026-03/contacts')).data.results).toHaveLength(1);
    expect((await api.post('/crm/objects/2026-03/contacts/search', {})).data).toEqual({ total: 0, results: [] });
    const read = await api.post('/crm/objects/2026-03/contacts/batch/read', {
      inputs: [{ id: 'seen@example.com' }],
      idProperty: 'email',
      properties: [],
      propertiesWithHistory: [],
    });
    expect(read.status).toBe(200);
    expect(read.data.results).toEqual([]);
    expect((await api.post('/crm/objects/2026-03/contacts/search', {})).data.total).toBe(1);
  });

  test('emptyResultsRate 1 scoped by routes; validated like the other fault keys', async () => {
    const { portalId, api } = h.account();
    h.sim.admin.setFaults({ emptyResultsRate: 1, routes: ['/crm/v3/objects/contacts/batch/upsert'] });
    expect((await api.post('/crm/v3/objects/contacts/batch/upsert', { inputs: [upsertInput('v3@example.com')] })).data.results).toEqual([]);
    expect((await api.post(UPSERT, { inputs: [upsertInput('dated@example.com')] })).data.results).toHaveLength(1);
    expect(h.sim.admin.contactCount(portalId)).toBe(1);
    expect((await h.anon.put('/__sim/faults', { emptyResultsRate: 2 })).status).toBe(400);
  });
});
