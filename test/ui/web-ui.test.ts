/**
 * The Temporal Web UI shows our activations: a dev server with its UI (SQLite state, our search
 * attributes, the API as codec server), one real activation, then headless Chromium (Debian's, driven
 * by playwright-core) filters the workflow list by the DestinationId search attribute, opens the
 * activation and finds its static summary, decoded by the codec server. Screenshots go to
 * test-artifacts/. Needs /usr/bin/chromium (scripts/ci-install-chromium.sh, run by .ci/run).
 */
import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTemporalDevServer, type DevServer } from '../../src/dev/temporal-dev-server';
import { createLogger } from '../../src/logger';
import { freePort } from '../../src/metrics/server';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { AUDIENCE, startActivation, waitForEnd, writeMembers } from '../helpers/activation';
import { createDestination, quietRuntime, startStack, tempDir, type TestStack } from '../helpers/stack';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`Skipping the Web UI browser test: ${CHROMIUM} is missing (install it with scripts/ci-install-chromium.sh).`);
}
const describeUi = haveChromium ? describe : describe.skip;

jest.setTimeout(240_000);

describeUi('Temporal Web UI', () => {
  let server: DevServer;
  let env: TestWorkflowEnvironment;
  let stack: TestStack;
  let browser: Browser;
  let uiUrl: string;
  let stateDir: string;

  beforeAll(async () => {
    quietRuntime();
    stateDir = tempDir('hsd-ui-');
    const [port, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    server = await startTemporalDevServer({
      dbFile: path.join(stateDir, 'temporal.db'),
      port,
      uiPort,
      searchAttributes: SEARCH_ATTRIBUTES.map((k) => k.name),
      // The UI decodes payloads (summaries, inputs) through our API's codec server.
      codecEndpoint: `http://127.0.0.1:${apiPort}/codec`,
      logFile: path.join(stateDir, 'temporal.log'),
    });
    uiUrl = server.uiUrl!;
    // The port accepts connections slightly before the frontend serves gRPC: retry the first connect.
    for (let attempt = 1; ; attempt++) {
      try {
        env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    stack = await startStack({
      temporal: env,
      // As npm start does for its loopback dev UI: that UI cannot send the API key (issue 18).
      env: { TEMPORAL_UI_PORT: String(uiPort), API_PORT: String(apiPort), CODEC_ALLOW_KEYLESS_UI_ORIGIN: 'true' },
      logger: createLogger({ level: 'error', name: 'test' }),
    });
    await stack.api.listen({ host: '127.0.0.1', port: apiPort });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await env?.teardown();
    await server?.stop();
    if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  });

  async function screenshot(page: Page, name: string): Promise<void> {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  }

  test('finds the activation by its DestinationId search attribute and shows its summary', async () => {
    const { destinationId } = await createDestination(stack);
    const { file } = writeMembers(stack, 'web-ui', 30);
    const activationId = await startActivation(stack, destinationId, { path: file });
    expect((await waitForEnd(stack, activationId)).status).toBe('completed');

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      const query = encodeURIComponent(`DestinationId="${destinationId}"`);
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${query}`, { waitUntil: 'domcontentloaded' });
      // The filtered list holds the activation (found through the search attribute).
      const link = page.locator(`a[href*="/workflows/${activationId}/"]`).first();
      await link.waitFor({ state: 'visible', timeout: 60_000 });
      await screenshot(page, 'web-ui-activation-list.png');

      await link.click();
      await page.waitForURL(new RegExp(`/workflows/${activationId}/`), { timeout: 30_000 });
      // UI 2.5x shows summary and details under "User Metadata" (older UIs in the header).
      const metadataTab = page.getByText('User Metadata', { exact: true }).first();
      await metadataTab.waitFor({ state: 'visible', timeout: 30_000 });
      await metadataTab.click();
      // Static summary, decoded by the codec server: 'Activate audience "<name>" → <destination>'. The UI
      // renders the Markdown in iframes, with typographic quotes.
      const summary = page
        .frameLocator('#user-metadata-summary')
        .getByText(new RegExp(`Activate audience [“"]${AUDIENCE.name}[”"] → Test destination`));
      await summary.first().waitFor({ state: 'visible', timeout: 60_000 });
      // Current details, set by the workflow as it progresses.
      await page
        .frameLocator('#user-metadata-current-details')
        .getByText(/Upserted: 30/)
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      await screenshot(page, 'web-ui-activation.png');
      expect(await page.content()).toContain(activationId);
    } catch (err) {
      await screenshot(page, 'web-ui-failure.png').catch(() => undefined);
      fs.writeFileSync(path.join(ARTIFACTS, 'web-ui-failure.html'), await page.content().catch(() => ''));
      throw err;
    } finally {
      await page.close();
    }
    expect(fs.existsSync(path.join(ARTIFACTS, 'web-ui-activation.png'))).toBe(true);
  });
});
