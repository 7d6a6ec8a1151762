/**
 * Records stream histories for the replay test (run when the stream workflow changes *on purpose*, e.g.
 * after adding a patch): `npx tsx test/replay/record-stream-history.ts`. Streams merged, stale, rejected
 * and ignored updates with a pause, across continue-as-new, and writes the first run's history and the
 * open run's history as JSON next to the activation histories. `--name <prefix>` writes
 * `<prefix>-first-run.json` / `<prefix>-open-run.json` instead (to keep older recordings replaying beside
 * new ones: `destination-stream-refs` holds streams by reference, issue 15).
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createDestination, startStack } from '../helpers/stack';
import { StreamLoad } from '../helpers/stream-load';
import { activateAudience, AUD_A, AUD_OFF, sendProfiles, streamStats, waitIdle } from '../helpers/streaming';
import { FIXTURE_CODEC_KEYS, FIXTURE_DIR } from './replay-fixture';

const nameArg = process.argv.indexOf('--name');
const NAME = nameArg > 0 ? process.argv[nameArg + 1] : 'destination-stream';

async function main(): Promise<void> {
  const stack = await startStack({ env: { CODEC_KEYS: FIXTURE_CODEC_KEYS, STREAM_MAX_HISTORY_EVENTS: '100' } });
  try {
    const { destinationId } = await createDestination(stack);
    await activateAudience(stack, destinationId, AUD_A);
    const load = new StreamLoad(stack, destinationId, AUD_A, 50);
    for (let i = 0; i < 40; i++) await load.send(10);
    await sendProfiles(stack, destinationId, [
      { email: 'late@example.com', at: '2024-01-01T00:00:02Z', statuses: { [AUD_A.id]: 'realized' } },
      { email: 'late@example.com', at: '2024-01-01T00:00:01Z', statuses: { [AUD_A.id]: 'exited' } },
      { email: 'off@example.com', statuses: { [AUD_OFF.id]: 'realized' } },
      { email: 'not-an-email', statuses: { [AUD_A.id]: 'realized' } },
    ]);
    await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/stream/pause` });
    for (let i = 0; i < 60; i++) await load.send(5);
    await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/stream/resume` });
    const s = await waitIdle(stack, destinationId, load.accepted + 4, 60_000);
    if (s.runs < 3) throw new Error(`expected several runs, got ${s.runs}`);
    const last = stack.client.workflow.getHandle(s.workflowId);
    const firstRunId = (await last.describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
    const first = stack.client.workflow.getHandle(s.workflowId, firstRunId ?? undefined);
    fs.mkdirSync(FIXTURE_DIR, { recursive: true });
    fs.writeFileSync(path.join(FIXTURE_DIR, `${NAME}-first-run.json`), historyToJSON(await first.fetchHistory()));
    fs.writeFileSync(path.join(FIXTURE_DIR, `${NAME}-open-run.json`), historyToJSON(await last.fetchHistory()));
    console.log(`recorded ${s.workflowId} (${(await streamStats(stack, destinationId)).runs} runs) into ${FIXTURE_DIR}`);
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
