/** The page delivery and the confirmed-state memory (issue 12): unchanged members are skipped, only accepted ones are confirmed, before the checkpoint. */
import { beginPage, processPage, type PageCheckpoint } from '../../../src/delivery/process-page';
import type { BatchUpsertResult, ContactUpsert, HubSpotClient } from '../../../src/hubspot/client';
import type { SourceRecord } from '../../../src/members/types';
import { fingerprint } from '../../../src/dataflow/fingerprint';
import type { ConfirmRow, MemoryRow, PageContact, ResolveOptions, ResolvedContact } from '../../../src/store/contact-memory';

const record = (line: number, email: string, city: string): SourceRecord => ({
  line,
  format: 'csv',
  header: 'email,city',
  raw: `${email},${city}`,
});

function setup() {
  const log: string[] = [];
  const rows = new Map<string, MemoryRow>();
  const keyOf = (_d: string, e: string) => `h:${e}`;
  const memory = {
    keyOf,
    async lookup(_d: string, keys: readonly string[]) {
      log.push('lookup again');
      return new Map(keys.filter((k) => rows.has(k)).map((k) => [k, rows.get(k)!]));
    },
    async resolve(d: string, contacts: readonly PageContact[], options: ResolveOptions): Promise<ResolvedContact[]> {
      log.push(options.lookup ? 'lookup' : 'resolve');
      return contacts.map((c) => {
        const keyHash = keyOf(d, c.email);
        const row = options.lookup ? rows.get(keyHash) : undefined;
        return { keyHash, fingerprint: fingerprint(c.attributes), ...(row ? { remembered: row } : {}) };
      });
    },
    async markSeen() {
      log.push('markSeen');
    },
    async confirm(_d: string, confirmed: readonly ConfirmRow[]) {
      log.push(`confirm ${confirmed.length}`);
      for (const r of confirmed)
        rows.set(r.keyHash, { keyHash: r.keyHash, fingerprint: r.fingerprint, recordId: r.recordId ?? null, statuses: { ...r.statuses } });
    },
  };
  const sent: string[][] = [];
  const client = {
    async batchUpsertContacts(inputs: ContactUpsert[]): Promise<BatchUpsertResult> {
      sent.push(inputs.map((i) => i.email));
      log.push('upsert');
      const bad = inputs.findIndex((i) => i.email.startsWith('bad'));
      return {
        results: inputs
          .filter((_, i) => i !== bad)
          .map((i) => ({ id: `id-${i.email}`, email: i.email, isNew: true, objectWriteTraceId: i.traceId })),
        errors: bad < 0 ? [] : [{ code: 'INVALID_EMAIL', message: 'no', objectWriteTraceIds: [String(bad)], ids: [] }],
      } as unknown as BatchUpsertResult;
    },
  } as unknown as HubSpotClient;
  const ctx = (fullResync = false) => ({
    activationId: 'act',
    audienceId: 'a',
    audiencePropertyName: 'aud_a',
    mapping: { attributes: [{ source: 'city', target: 'city' }] },
    properties: new Map([['city', { name: 'city', type: 'string', fieldType: 'text', options: [] } as never]]),
    client,
    rejections: { add: async () => undefined } as never,
    concurrency: 1,
    onCheckpoint: (_cp: PageCheckpoint) => void log.push('checkpoint'),
    memory: { store: memory, destinationId: 'd', fullResync },
  });
  return { log, rows, sent, ctx };
}

test('unchanged members are skipped UNCHANGED; accepted ones are confirmed before the checkpoint, rejected never', async () => {
  const t = setup();
  const page = [record(2, 'ana@example.com', 'Oslo'), record(3, 'bad@example.com', 'Rome'), record(4, 'bo@example.com', 'Lima')];
  const first = await processPage(page, t.ctx());
  expect(first).toMatchObject({ received: 3, upserted: 2, rejected: 1, skipped: 0 });
  expect(t.log).toEqual(['lookup', 'upsert', 'confirm 2', 'checkpoint']);
  expect([...t.rows.keys()].sort()).toEqual(['h:ana@example.com', 'h:bo@example.com']);
  expect(t.rows.get('h:ana@example.com')!.recordId).toBe('id-ana@example.com');

  // Again with one change: only it (and the never-remembered rejected one) is sent.
  const second = await processPage([page[0], page[1], record(4, 'bo@example.com', 'Quito')], t.ctx());
  expect(second).toMatchObject({ received: 3, upserted: 1, rejected: 1, skipped: 1, skippedByReason: { UNCHANGED: 1 } });
  expect(t.sent[1]).toEqual(['bad@example.com', 'bo@example.com']);

  // fullResync sends everything and still confirms.
  const full = await processPage(page, t.ctx(true));
  expect(full).toMatchObject({ upserted: 2, skipped: 0 });
  expect(t.sent[2]).toHaveLength(3);
});

test('a page whose memory was read ahead reads again the contacts the page before it held, so a change it made is not missed', async () => {
  const t = setup();
  await processPage([record(2, 'ana@example.com', 'Paris')], t.ctx());
  // Page 2 is prepared and its memory read while page 1 (which moves ana to Berlin) is still being sent.
  const page2 = [record(3, 'ana@example.com', 'Paris'), record(4, 'bo@example.com', 'Lima')];
  const start2 = beginPage(page2, t.ctx());
  const page1 = [record(2, 'ana@example.com', 'Berlin')];
  const start1 = beginPage(page1, t.ctx());
  await processPage(page1, t.ctx(), start1);
  t.log.length = 0;
  const ctx2 = t.ctx();
  const second = await processPage(page2, { ...ctx2, memory: { ...ctx2.memory, previousPageKeys: await start1.keys() } }, start2);
  // Read ahead, ana looked unchanged (Paris); read again, HubSpot now holds Berlin: Paris is sent.
  expect(t.log[0]).toBe('lookup again');
  expect(second).toMatchObject({ upserted: 2, skipped: 0 });
  expect(t.sent.at(-1)).toEqual(['ana@example.com', 'bo@example.com']);
});

test('a retried page cuts the batches of its first attempt: the send mask survives, so a batch done out of order loses no change', async () => {
  const t = setup();
  // 300 members; every third is remembered unchanged, so the first attempt sends 200 in two batches.
  const emails = Array.from({ length: 300 }, (_, i) => `m${i}@example.com`);
  const page = emails.map((e, i) => record(i + 2, e, 'Oslo'));
  await processPage(
    page.filter((_, i) => i % 3 === 0),
    t.ctx(),
  );
  t.sent.length = 0;
  const saved: PageCheckpoint[] = [];
  const first = { ...t.ctx(), onCheckpoint: (cp: PageCheckpoint) => void saved.push(cp) };
  await processPage(page, first);
  const [batch0, batch1] = t.sent;
  expect(batch0).toHaveLength(100);
  expect(batch1).toHaveLength(100);
  // The worker died after batch 1 was confirmed and checkpointed, before batch 0 was: batch 0 was never confirmed.
  const afterBatch1: PageCheckpoint = { ...saved.at(-1)!, done: { 1: saved.at(-1)!.done[1] } };
  for (const e of batch0) t.rows.delete(`h:${e}`);
  t.sent.length = 0;
  await processPage(page, { ...t.ctx(), checkpoint: afterBatch1 });
  expect(t.sent).toEqual([batch0]);
});
