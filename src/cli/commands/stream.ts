/** `stream stats|pause|resume|send|rejections <destinationId>`: the destination's always-on stream. */
import fs from 'node:fs';
import readline from 'node:readline';
import type { Command } from 'commander';
import type { z } from 'zod';
import type { StreamStatsView } from '../../api/stream-schemas';
import type { ApiClient } from '../api-client';

/** What `GET /v1/destinations/:id/stream` answers (the API's own schema). */
export type StreamStatsLike = z.infer<typeof StreamStatsView>;

function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  return `${iso} (${s < 60 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`} ago)`;
}

/** The stats as a small two-column table. */
export function renderStreamStats(s: StreamStatsLike, now = Date.now()): string {
  const rows: Array<[string, string | number]> = [
    ['state', s.state + (s.pausedReason ? ` (${s.pausedReason})` : '')],
    ['received', s.received],
    ['sent', `${s.sent} (created ${s.created}, updated ${s.updated})`],
    ['rejected', s.rejected],
    ...Object.entries(s.rejectedByReason ?? {}).map(([k, v]): [string, number] => [`  rejected: ${k}`, v]),
    ['ignored', `${s.ignored} (no activated audience) · ${s.ignoredStatuses} statuses of other audiences`],
    ['merged / stale / unchanged', `${s.merged} / ${s.stale} / ${s.unchanged}`],
    ['buffered', `${s.buffered}${s.bufferedBytes ? ` (${(s.bufferedBytes / 1024).toFixed(1)} KB)` : ''}`],
    ['in flight', s.inFlight],
    ['flushes', s.flushes],
    ['last flush', ago(s.lastFlushAt, now)],
    ['lag', `${(s.lagMs / 1000).toFixed(2)} s`],
  ];
  if (s.options)
    rows.push([
      'settings',
      `latency bound ${s.options.maxLatencyMs} ms · batch ${s.options.batchSize} · ${s.options.maxConcurrentFlushes} flushes at once`,
    ]);
  if (s.runs) rows.push(['workflow', `run ${s.runs} · ${s.historyLength} history events`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [`Stream of ${s.destinationId}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  if (s.webUiUrl) lines.push(`Web UI: ${s.webUiUrl}`);
  return lines.join('\n');
}

const statsUrl = (id: string) => `/v1/destinations/${encodeURIComponent(id)}/stream`;

/** Posts an NDJSON file of XDM profiles in requests of `chunk`; returns the number accepted. */
export async function sendProfilesFile(
  api: ApiClient,
  destinationId: string,
  file: string,
  chunk = 1000,
  onProgress?: (n: number) => void,
): Promise<number> {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let batch: unknown[] = [];
  let accepted = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const res = await api.post<{ accepted: number }>(`/v1/destinations/${encodeURIComponent(destinationId)}/profiles`, batch);
    accepted += res.accepted;
    batch = [];
    onProgress?.(accepted);
  };
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    try {
      batch.push(JSON.parse(line));
    } catch {
      throw new Error(
        `Line ${lineNo} of ${file} is not valid JSON (one XDM profile per line expected); ${accepted} profiles were sent before it.`,
      );
    }
    if (batch.length >= chunk) await flush();
  }
  await flush();
  return accepted;
}

export function registerStreamCommands(program: Command, api: () => ApiClient): void {
  const stream = program.command('stream').description("a destination's always-on stream of profile updates");

  stream
    .command('stats <destinationId>')
    .description('received, sent, rejected, ignored, buffered, last flush and lag')
    .option('--watch', 'refresh until Ctrl-C')
    .option('--interval <ms>', 'refresh interval with --watch', '2000')
    .option('--json', 'print the raw JSON')
    .action(async (id: string, o: { watch?: boolean; interval: string; json?: boolean }) => {
      const client = api();
      for (;;) {
        const s = await client.get<StreamStatsLike>(statsUrl(id));
        const text = o.json ? JSON.stringify(s, null, 2) : renderStreamStats(s);
        if (o.watch && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
        console.log(text);
        if (!o.watch) return;
        await new Promise((r) => setTimeout(r, Math.max(200, Number(o.interval) || 2000)));
      }
    });

  stream
    .command('pause <destinationId>')
    .description('pause sending (updates keep being accepted and are kept)')
    .action(async (id: string) => {
      await api().post(`${statsUrl(id)}/pause`, {});
      console.log(`Pausing the stream of ${id}; updates are kept until \`stream resume ${id}\`.`);
    });

  stream
    .command('resume <destinationId>')
    .description('resume sending; everything kept while paused goes out')
    .action(async (id: string) => {
      await api().post(`${statsUrl(id)}/resume`, {});
      console.log(`Resuming the stream of ${id}.`);
    });

  stream
    .command('send <destinationId> <file>')
    .description('stream the XDM profiles of an NDJSON file (requests of up to 1,000)')
    .option('--chunk <n>', 'profiles per request (≤ 1000)', '1000')
    .action(async (id: string, file: string, o: { chunk: string }) => {
      const n = await sendProfilesFile(api(), id, file, Math.min(1000, Math.max(1, Number(o.chunk) || 1000)), (k) =>
        process.stderr.write(`\r${k} profiles accepted`),
      );
      process.stderr.write('\n');
      console.log(`${n} profile updates accepted by the stream of ${id}. Follow them with \`stream stats ${id} --watch\`.`);
    });

  stream
    .command('rejections <destinationId>')
    .description('rejected streamed updates and their reasons')
    .option('--after <seq>', 'continue after this sequence number', '0')
    .option('--limit <n>', 'rows', '100')
    .action(async (id: string, o: { after: string; limit: string }) => {
      const res = await api().get<{
        items: Array<{ seq: number; line: number; email?: string; reason: { code: string; message: string } }>;
        next?: number;
      }>(`${statsUrl(id)}/rejections`, { after: o.after, limit: o.limit });
      for (const r of res.items)
        console.log(`${String(r.seq).padStart(6)}  update ${r.line}  ${r.reason.code}  ${r.email ?? '-'}  ${r.reason.message}`);
      if (res.next !== undefined) console.log(`more: --after ${res.next}`);
    });
}
