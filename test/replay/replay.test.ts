/**
 * Determinism guard: activation histories recorded from an earlier version of the workflow code must
 * replay on the current code. A change that alters the command sequence for running workflows fails
 * here; ship it behind `patched()` and re-record (test/replay/record-history.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { createDataConverter } from '../../src/temporal/data-converter';
import { quietRuntime, workflowBundle } from '../helpers/stack';
import { FIXTURE_CODEC_KEYS, FIXTURE_DIR } from './replay-fixture';

jest.setTimeout(60_000);

const files = fs.readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json'));

test('there are recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(2);
});

test.each(files)('%s replays without non-determinism', async (file) => {
  quietRuntime();
  const history = JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, file), 'utf8'));
  const dataConverter = createDataConverter(loadConfig({ CODEC_KEYS: FIXTURE_CODEC_KEYS }), { createKeys: false });
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter }, history);
});
