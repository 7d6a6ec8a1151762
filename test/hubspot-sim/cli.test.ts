/** `npm run hubspot-sim`: the entry point prints its URL and a demo account, and reuses it from the snapshot. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import axios from 'axios';

const ROOT = path.resolve(__dirname, '../..');

interface Started {
  events: Record<string, Record<string, unknown>>;
  stop(): Promise<number | null>;
}

function run(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/hubspot-sim/main.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const events: Record<string, Record<string, unknown>> = {};
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('simulator did not start')), 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      events[e.event as string] = e;
      const ready = args.includes('--demo-account') ? events['demo-account'] : events.listening;
      if (ready) {
        clearTimeout(timer);
        resolve({
          events,
          stop: () =>
            new Promise((r) => {
              child.once('exit', (code) => r(code));
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${String(code)}`)));
  });
}

test('--port 0 --demo-account --snapshot: prints url, portal id and token; the account survives a restart', async () => {
  const snapshot = path.join(mkdtempSync(path.join(os.tmpdir(), 'hubspot-sim-cli-')), 'sim.json');
  const first = await run(['--port', '0', '--demo-account', '--snapshot', snapshot]);
  const { url } = first.events.listening as { url: string };
  const demo = first.events['demo-account'] as { portalId: number; token: string; reused: boolean };
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(demo).toMatchObject({ portalId: expect.any(Number), token: expect.stringMatching(/^pat-na1-/), reused: false });
  const api = axios.create({ baseURL: url, headers: { Authorization: `Bearer ${demo.token}` }, validateStatus: () => true });
  expect((await api.post('/crm/v3/objects/contacts', { properties: { email: 'cli@example.com' } })).status).toBe(201);
  expect(await first.stop()).toBe(0);

  const second = await run(['--port', '0', '--demo-account', '--snapshot', snapshot]);
  try {
    const again = second.events['demo-account'] as { portalId: number; token: string; reused: boolean };
    expect(again).toEqual({ event: 'demo-account', portalId: demo.portalId, token: demo.token, reused: true });
    const res = await axios.get(
      `${(second.events.listening as { url: string }).url}/crm/v3/objects/contacts/cli@example.com?idProperty=email`,
      {
        headers: { Authorization: `Bearer ${demo.token}` },
      },
    );
    expect(res.data.properties.email).toBe('cli@example.com');
  } finally {
    await second.stop();
  }
});

test('--upsert-partial, --echo-trace-ids and --burst-scope set the behaviour of new accounts', async () => {
  const sim = await run([
    '--port',
    '0',
    '--demo-account',
    '--upsert-partial',
    'all-or-nothing',
    '--echo-trace-ids',
    'false',
    '--burst-scope',
    'account',
  ]);
  try {
    const { url } = sim.events.listening as { url: string };
    const { portalId } = sim.events['demo-account'] as { portalId: number };
    const res = await axios.get(`${url}/__sim/accounts/${portalId}/behaviour`);
    expect(res.data).toEqual({ upsertPartial: 'all-or-nothing', echoTraceIds: false, burstScope: 'account', writeRules: [] });
  } finally {
    await sim.stop();
  }
});
