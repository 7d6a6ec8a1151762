/**
 * Records activation histories for the replay test (run when workflow code changes *on purpose*,
 * e.g. after adding a patch): `npx tsx test/replay/record-history.ts`. Runs a small activation that
 * continues-as-new, on the real stack, and writes the first and the last run's history as JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startActivation, waitForEnd, writeMembers } from '../helpers/activation';
import { createDestination, startStack } from '../helpers/stack';
import { FIXTURE_CODEC_KEYS, FIXTURE_DIR } from './replay-fixture';

async function main(): Promise<void> {
  const stack = await startStack({
    env: {
      CODEC_KEYS: FIXTURE_CODEC_KEYS,
      ACTIVATION_PAGE_SIZE: '100',
      ACTIVATION_PAGES_PER_ACTIVITY: '1',
      ACTIVATION_MAX_HISTORY_EVENTS: '100',
    },
  });
  try {
    const { destinationId } = await createDestination(stack);
    const { file } = writeMembers(stack, 'replay', 2500, 5);
    const activationId = await startActivation(stack, destinationId, { path: file });
    const end = await waitForEnd(stack, activationId);
    if (end.status !== 'completed' || end.summary.runs < 2)
      throw new Error(`unexpected end: ${JSON.stringify(end.status)} runs=${end.summary?.runs}`);
    const last = stack.client.workflow.getHandle(activationId);
    const firstRunId = (await last.describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
    const first = stack.client.workflow.getHandle(activationId, firstRunId ?? undefined);
    fs.mkdirSync(FIXTURE_DIR, { recursive: true });
    fs.writeFileSync(path.join(FIXTURE_DIR, 'activate-audience-first-run.json'), historyToJSON(await first.fetchHistory()));
    fs.writeFileSync(path.join(FIXTURE_DIR, 'activate-audience-last-run.json'), historyToJSON(await last.fetchHistory()));
    console.log(`recorded ${activationId} (${end.summary.runs} runs) into ${FIXTURE_DIR}`);
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
