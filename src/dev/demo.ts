/**
 * `npm run demo` (against a running `npm start`): creates a destination on the HubSpot simulator's demo
 * account, uploads the generated sample audiences (XDM profiles and a CSV custom upload), activates
 * them, shows live progress, and prints each summary with its Web UI link.
 */
import fs from 'node:fs';
import path from 'node:path';
import axios from 'axios';
import cliProgress from 'cli-progress';
import { ApiClient } from '../cli/api-client';
import { uploadFile } from '../cli/commands/activations';
import { isFinal, printSummary, type ActivationViewLike } from '../cli/render';
import { loadConfig } from '../config';
import { generateProfileObjects, profileCsvRow, profileToJson, SAMPLE_AUDIENCES, SAMPLE_CSV_COLUMNS } from '../members/sample-profiles';
import { DEMO_LABEL } from './demo-account';

const SAMPLE_COUNT = 10_000;
const CUSTOM_UPLOAD_AUDIENCE = { id: 'custom-upload-trade-show-leads', name: 'Trade show leads (custom upload)' };

/** Writes the deterministic sample files once (generated, never committed). */
function ensureSamples(dir: string): { ndjson: string; csv: string } {
  const ndjson = path.join(dir, `demo-profiles-${SAMPLE_COUNT}.ndjson`);
  const csv = path.join(dir, 'demo-custom-upload.csv');
  if (!fs.existsSync(ndjson) || !fs.existsSync(csv)) {
    fs.mkdirSync(dir, { recursive: true });
    const lines: string[] = [];
    const rows: string[] = [SAMPLE_CSV_COLUMNS.join(',')];
    for (const p of generateProfileObjects({ count: SAMPLE_COUNT, seed: 42 })) {
      lines.push(profileToJson(p));
      // The custom upload: members of the last sample audience, as a CSV with its own audience id.
      const row = profileCsvRow(p, SAMPLE_AUDIENCES[2].id);
      if (row) rows.push(row);
    }
    fs.writeFileSync(ndjson, lines.join('\n') + '\n');
    fs.writeFileSync(csv, rows.join('\n') + '\n');
  }
  return { ndjson, csv };
}

/** A fresh token for the simulator's demo account (from its admin API), or HUBSPOT_TOKEN for a real account. */
async function hubspotConnection(): Promise<{ token: string; baseUrl?: string }> {
  const config = loadConfig();
  if (config.hubspot.token) return { token: config.hubspot.token, baseUrl: config.hubspot.baseUrl };
  const simUrl = `http://127.0.0.1:${config.hubspot.simPort}`;
  const accounts = await axios.get<{ results: Array<{ portalId: number; label?: string }> }>(`${simUrl}/__sim/accounts`).catch(() => {
    throw new Error(`No HubSpot simulator at ${simUrl}. Start the stack first: npm start`);
  });
  const demo = accounts.data.results.find((a) => a.label === DEMO_LABEL);
  if (!demo) throw new Error('The simulator has no demo account; restart npm start.');
  const created = await axios.post<{ token: string }>(`${simUrl}/__sim/accounts/${demo.portalId}/tokens`, {});
  return { token: created.data.token, baseUrl: simUrl };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const api = new ApiClient();
  const samples = ensureSamples(path.join(config.dataDir, 'samples'));
  const hubspot = await hubspotConnection();

  console.log('Creating a destination on the demo HubSpot account ...');
  const { id: destinationId } = await api.post<{ id: string }>('/v1/destinations', {
    name: `Demo destination ${new Date().toISOString().slice(0, 19)}`,
    description: 'Created by npm run demo',
    hubspot,
    mapping: {
      attributes: [
        { source: 'person.name.firstName', target: 'firstname' },
        { source: 'person.name.lastName', target: 'lastname' },
        { source: 'workAddress.street1', target: 'address' },
        { source: 'workAddress.city', target: 'city' },
        { source: 'workAddress.country', target: 'country' },
        { source: 'mobilePhone.number', target: 'mobilephone' },
      ],
    },
  });
  console.log(`Destination ${destinationId}`);

  console.log('Uploading the sample audiences ...');
  const profiles = await uploadFile(api, samples.ndjson);
  const custom = await uploadFile(api, samples.csv);
  console.log(
    `  XDM profiles: ${profiles.uploadId} (${profiles.rows} profiles)   CSV custom upload: ${custom.uploadId} (${custom.rows} rows)`,
  );

  const runs = [
    ...SAMPLE_AUDIENCES.map((audience) => ({ audience, uploadId: profiles.uploadId })),
    { audience: CUSTOM_UPLOAD_AUDIENCE, uploadId: custom.uploadId },
  ];
  const started = [];
  for (const run of runs) {
    const s = await api.post<{ activationId: string; webUiUrl: string }>(`/v1/destinations/${destinationId}/activations`, {
      audience: run.audience,
      source: { uploadId: run.uploadId },
    });
    started.push({ ...s, name: run.audience.name });
  }

  const multibar = new cliProgress.MultiBar(
    {
      format: ' {name} |{bar}| {value}/{total} | upserted {upserted} rejected {rejected} skipped {skipped} | {status}',
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...started.map((s) => s.name.length));
  const bars = started.map((s) =>
    multibar.create(1, 0, { name: s.name.padEnd(width), upserted: 0, rejected: 0, skipped: 0, status: 'starting' }),
  );
  const finals: ActivationViewLike[] = new Array(started.length);
  while (finals.filter(Boolean).length < started.length) {
    await Promise.all(
      started.map(async (s, i) => {
        if (finals[i]) return;
        const a = await api.get<ActivationViewLike>(`/v1/activations/${s.activationId}`);
        const c = a.summary ?? a.progress?.counts;
        const total = a.progress?.totalRecords ?? c?.received ?? 1;
        bars[i].setTotal(Math.max(total, 1));
        bars[i].update(c?.received ?? 0, {
          upserted: c?.upserted ?? 0,
          rejected: c?.rejected ?? 0,
          skipped: c?.skipped ?? 0,
          status: a.status,
        });
        if (isFinal(a.status)) finals[i] = a;
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
  }
  multibar.stop();
  console.log('');
  for (const a of finals) {
    printSummary(a);
    console.log('');
  }
  console.log(
    `All activations of ${destinationId} in the Web UI: ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows?query=${encodeURIComponent(`DestinationId="${destinationId}"`)}`,
  );
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(1);
});
