/**
 * Issue 15: contact data stays out of Temporal history. The API writes every update (sealed) to the
 * store's ingest log before its 202 and signals the stream with references only; flushes read the log.
 *  - history guard: bytes of history per update and the largest history page stay under their bounds;
 *  - at rest: the log holds no plaintext, and rows are deleted once their flush is accounted;
 *  - durability: kill -9 of the worker right after a burst of 202s loses nothing;
 *  - fairness: several destinations streaming at once progress together;
 *  - orphan rows (a request that crashed between its log write and its signal) are swept, and nothing
 *    the stream still refers to is, however old.
 */
import { analyseStreamHistory, STREAMING_GOALS } from '../../bench/streaming-latency';
import { streamWorkflowId } from '../../src/streaming/types';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';
import { activateAudience, AUD_A, expectBalanced, postProfiles, sendProfiles, waitIdle, xdm } from '../helpers/streaming';
import { startWorkerProcess } from '../helpers/worker-process';
import { ORPHAN_AGE_MS } from '../../src/streaming/orphans';

jest.setTimeout(240_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ worker: false, env: { STREAM_HEARTBEAT_TIMEOUT_MS: '2000' } });
});
afterAll(async () => {
  await stack?.close();
});

const realized = { [AUD_A.id]: 'realized' };
const ingestRows = (destinationId: string) => stack.services.ingestLog.count(destinationId);

async function burst(destinationId: string, prefix: string, requests: number, size: number): Promise<void> {
  await Promise.all(
    Array.from({ length: requests }, (_, r) =>
      sendProfiles(
        stack,
        destinationId,
        Array.from({ length: size }, (_, i) => ({ email: `${prefix}${r * size + i}@example.com`, statuses: realized, city: `City ${r}` })),
      ),
    ),
  );
}

test('kill -9 of the worker right after a burst of 202s: every accepted update is delivered', async () => {
  const first = await startWorkerProcess(stack.envVars);
  const { destinationId, portalId } = await createDestination(stack);
  await activateAudience(stack, destinationId, AUD_A);
  await burst(destinationId, 'kill', 20, 100); // 2,000 updates, every request answered 202
  await first.kill('SIGKILL');
  await stack.startWorker();
  const s = await waitIdle(stack, destinationId, 2000, 120_000);
  expect(s).toMatchObject({ received: 2000, sent: 2000, rejected: 0 });
  expectBalanced(s);
  expect(stack.sim.admin.contactCount(portalId)).toBe(2000);
  expect(stack.sim.admin.getContact(portalId, 'kill1999@example.com')?.properties.city).toBe('City 19');
});

test('history guard: ≤ 100 bytes per update, no page over 1 MB; the log is sealed and emptied as flushes are accounted', async () => {
  const { destinationId } = await createDestination(stack);
  await activateAudience(stack, destinationId, AUD_A);
  // Requests of 50, several at once (as under load, signals carry many references each).
  for (let round = 0; round < 10; round++) await burst(destinationId, `guard${round}-`, 4, 50);
  await waitIdle(stack, destinationId, 2000, 120_000);

  const h = await analyseStreamHistory(stack.env.address, stack.config.temporal.namespace, streamWorkflowId(destinationId));
  expect(h.largestPageBytes).toBeLessThanOrEqual(STREAMING_GOALS.historyPageBytes);
  expect(h.bytes / 2000).toBeLessThanOrEqual(STREAMING_GOALS.historyBytesPerUpdate);

  // Sealed at rest: no email or value in plaintext.
  const rows = await stack.services.db.query<{ sealed_update: string }>(
    'SELECT sealed_update FROM stream_ingest WHERE destination_id = $1',
    [destinationId],
  );
  for (const r of rows) expect(r.sealed_update).not.toMatch(/@example\.com|City/);
  // Accounted rows are deleted by the next flush: after one more update, only its own row is left.
  await sendProfiles(stack, destinationId, [{ email: 'last@example.com', statuses: realized }]);
  await waitIdle(stack, destinationId, 2001);
  expect(await ingestRows(destinationId)).toBe(1);
});

test('fairness: destinations streaming at once progress together', async () => {
  const targets = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const d = await createDestination(stack);
      await activateAudience(stack, d.destinationId, AUD_A);
      return d;
    }),
  );
  // Interleaved: each round sends 100 updates to every destination.
  const sending = (async () => {
    for (let round = 0; round < 8; round++) await Promise.all(targets.map((t, d) => burst(t.destinationId, `fair${d}-${round}-`, 2, 50)));
  })();
  // When the first destination has everything, every other one has at least half.
  const counts = await waitFor(
    () => {
      const c = targets.map((t) => stack.sim.admin.contactCount(t.portalId));
      return Math.max(...c) >= 800 ? c : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 50, what: 'a destination to get all its updates' },
  );
  expect(Math.min(...counts)).toBeGreaterThanOrEqual(400);
  await sending;
  for (const t of targets) await waitIdle(stack, t.destinationId, 800, 120_000);
});

test('orphan rows (written, never signalled) are swept by a flush; rows the stream refers to are kept, however old', async () => {
  if (!stack.worker) await stack.startWorker(); // when run alone (-t)
  const { destinationId, portalId } = await createDestination(stack);
  await activateAudience(stack, destinationId, AUD_A);
  // Paused before its first update: what it receives waits in the buffer.
  const paused = await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/stream/pause` });
  expect(paused.statusCode).toBe(202);
  // Two requests that crashed after writing the log, long ago, and one that may still be signalling.
  const orphan = { e: 'orphan@example.com', t: 1, s: { [AUD_A.id]: 'realized' }, v: { city: 'Never' } };
  const [old1, old2] = await stack.services.ingestLog.append(destinationId, [orphan, orphan]);
  const [young] = await stack.services.ingestLog.append(destinationId, [orphan]);
  const age = (seqs: number[], ms: number) =>
    stack.services.db.query(`UPDATE stream_ingest SET created_ms = $1 WHERE seq IN (${seqs.map((_, i) => `$${i + 2}`).join(', ')})`, [
      Date.now() - ms,
      ...seqs,
    ]);
  await age([old1, old2], ORPHAN_AGE_MS + 60_000);
  // An accepted update held by the paused stream longer than the orphan age: referred to, so kept.
  await sendProfiles(stack, destinationId, [{ email: 'kept@example.com', statuses: realized, city: 'Kept' }]);
  const [{ seq: kept }] = await stack.services.db.query<{ seq: number }>(
    'SELECT MAX(seq) AS seq FROM stream_ingest WHERE destination_id = $1',
    [destinationId],
  );
  await age([kept], 2 * ORPHAN_AGE_MS);
  const present = async () =>
    (
      await stack.services.db.query<{ seq: number }>('SELECT seq FROM stream_ingest WHERE destination_id = $1 ORDER BY seq', [
        destinationId,
      ])
    ).map((r) => Number(r.seq));
  expect(await present()).toEqual([old1, old2, young, Number(kept)]);

  // Resumed: its first flush sweeps the old orphans, sends the kept update; the young orphan stays.
  await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/stream/resume` });
  const s = await waitIdle(stack, destinationId, 1);
  expect(s).toMatchObject({ received: 1, sent: 1, ignored: 0 });
  expect(stack.sim.admin.getContact(portalId, 'kept@example.com')?.properties.city).toBe('Kept');
  expect(stack.sim.admin.getContact(portalId, 'orphan@example.com')).toBeUndefined();
  expect(await present()).toEqual([young, Number(kept)]); // kept: deleted by the next flush, as ever
});

test('history page guard under volume: a run hands over before its history reaches 1 MB (20,000 updates)', async () => {
  if (!stack.worker) await stack.startWorker(); // when run alone (-t)
  const { destinationId, portalId } = await createDestination(stack);
  await activateAudience(stack, destinationId, AUD_A);
  // 40 requests of 500, four at a time; a 429 (back-pressure) is retried after its Retry-After, as a client should.
  const send = async (prefix: string) => {
    const profiles = Array.from({ length: 500 }, (_, i) => xdm({ email: `${prefix}${i}@example.com`, statuses: realized }));
    for (;;) {
      const res = await postProfiles(stack, destinationId, profiles);
      if (res.status === 202) return;
      if (res.status !== 429) throw new Error(`profiles: ${res.status} ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  for (let round = 0; round < 10; round++) await Promise.all([0, 1, 2, 3].map((k) => send(`volume${round}-${k}-`)));
  const s = await waitIdle(stack, destinationId, 20_000, 180_000);
  expect(s).toMatchObject({ received: 20_000, sent: 20_000 });
  expect(stack.sim.admin.contactCount(portalId)).toBe(20_000);
  const h = await analyseStreamHistory(stack.env.address, stack.config.temporal.namespace, streamWorkflowId(destinationId));
  expect(h.runs).toBeGreaterThanOrEqual(2); // more than one run's worth of history
  expect(h.largestPageBytes).toBeLessThanOrEqual(STREAMING_GOALS.historyPageBytes);
  expect(h.bytes / 20_000).toBeLessThanOrEqual(STREAMING_GOALS.historyBytesPerUpdate);
});
