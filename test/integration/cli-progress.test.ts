/**
 * The CLI's live progress (`activate --wait`, `status --watch`): `watchActivation` polls the real API
 * over HTTP until the activation ends, drawing the bar on a non-TTY stream, then the summary table.
 */
import { PassThrough } from 'node:stream';
import { ApiClient } from '../../src/cli/api-client';
import { printSummary, watchActivation } from '../../src/cli/render';
import { createLogger } from '../../src/logger';
import { startActivation, writeMembers } from '../helpers/activation';
import { createDestination, startStack, TEST_API_KEY, type TestStack } from '../helpers/stack';

jest.setTimeout(180_000);

let stack: TestStack;
let apiUrl: string;

beforeAll(async () => {
  stack = await startStack({ logger: createLogger({ level: 'error', name: 'test' }) });
  apiUrl = await stack.api.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await stack?.close();
});

test('watchActivation shows members done of total on a non-TTY stream and ends with the summary table', async () => {
  const { destinationId } = await createDestination(stack);
  const { file } = writeMembers(stack, 'cli-progress', 300);
  const activationId = await startActivation(stack, destinationId, { path: file });

  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  (stream as { isTTY?: boolean }).isTTY = false;
  let drawn = '';
  stream.on('data', (c: Buffer) => (drawn += c.toString('utf8')));

  const api = new ApiClient({ apiUrl, apiKey: TEST_API_KEY });
  const final = await watchActivation(api, activationId, { intervalMs: 200, stream });
  expect(final.status).toBe('completed');
  expect(drawn).toMatch(/300\/300 members/);
  expect(drawn).toMatch(/upserted 300 rejected 0/);

  const lines: string[] = [];
  printSummary(final, (l) => lines.push(l));
  expect(lines[0]).toBe(`Activation ${activationId}: completed`);
  expect(lines).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^ {2}received\s+300$/),
      expect.stringMatching(/^ {2}upserted\s+300 \(created 300, updated 0\)$/),
      expect.stringMatching(/^ {2}rejected\s+0$/),
      expect.stringMatching(/^ {2}rate\s+\d+ members\/s$/),
    ]),
  );
  expect(lines[lines.length - 1]).toBe(`Web UI: ${final.webUiUrl}`);
  expect(final.webUiUrl).toContain(`/workflows/${activationId}/`);
});
