/** `upload`, `activate`, `status`, `list`, `rerun`, `cancel`, `rejections`, `plan`. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ApiClient } from '../api-client';
import { printPlanLines, printSummary, watchActivation, type ActivationViewLike, type PlanLineLike } from '../render';

interface Started {
  activationId: string;
  webUiUrl: string;
}

function contentTypeFor(file: string): string {
  return /\.csv$/i.test(file) ? 'text/csv' : 'application/x-ndjson';
}

export async function uploadFile(api: ApiClient, file: string): Promise<{ uploadId: string; rows: number; format: string; bytes: number }> {
  const stat = fs.statSync(file);
  return api.post(`/v1/uploads?filename=${encodeURIComponent(path.basename(file))}`, fs.createReadStream(file), {
    headers: { 'Content-Type': contentTypeFor(file), 'Content-Length': String(stat.size) },
  });
}

async function finish(api: ApiClient, started: Started, wait: boolean): Promise<void> {
  console.log(`Started ${started.activationId}\nWeb UI: ${started.webUiUrl}`);
  if (!wait) return;
  const end = await watchActivation(api, started.activationId);
  printSummary(end);
  if (end.status === 'failed') process.exitCode = 1;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--audience-id`/`--audience-name` pairs, in order. */
export function audiencePairs(ids: string[], names: string[]): Array<{ id: string; name: string }> {
  if (ids.length !== names.length)
    throw new Error(`Give one --audience-name per --audience-id (got ${ids.length} ids and ${names.length} names).`);
  return ids.map((id, i) => ({ id, name: names[i] }));
}

/**
 * A file of audiences for `activate --audiences-file`: a JSON array of `{id, name}`, or CSV/text lines
 * `id,name` (a header line `id,name` is skipped; the name may contain commas).
 */
export type AudienceArg = { id: string; name: string; encoding?: 'property' | 'list' | 'both' };
const ENCODINGS = ['property', 'list', 'both'];

export function parseAudiencesFile(text: string, file = 'the audiences file'): AudienceArg[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const list = JSON.parse(trimmed) as unknown;
    const ok = (a: unknown): a is AudienceArg =>
      typeof a === 'object' &&
      a !== null &&
      typeof (a as AudienceArg).id === 'string' &&
      typeof (a as AudienceArg).name === 'string' &&
      ((a as AudienceArg).encoding === undefined || ENCODINGS.includes((a as AudienceArg).encoding!));
    if (!Array.isArray(list) || !list.every(ok))
      throw new Error(
        `${file}: a JSON file of audiences is an array of {"id": "...", "name": "...", "encoding"?: "property" | "list" | "both"}.`,
      );
    return list.map((a) => ({ id: a.id, name: a.name, ...(a.encoding ? { encoding: a.encoding } : {}) }));
  }
  const out: Array<{ id: string; name: string }> = [];
  trimmed.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim() || (i === 0 && /^\s*id\s*,\s*name\s*$/i.test(line))) return;
    const comma = line.indexOf(',');
    if (comma <= 0) throw new Error(`${file}, line ${i + 1}: expected "id,name".`);
    out.push({ id: line.slice(0, comma).trim(), name: line.slice(comma + 1).trim() });
  });
  return out;
}

/** Prints up to `limit` plan lines of a dry run as a table. */
async function printPlan(client: ApiClient, id: string, limit: number): Promise<void> {
  let after = 0;
  let left = limit;
  while (left > 0) {
    const page = await client.get<{ items: PlanLineLike[]; next?: number }>(`/v1/activations/${encodeURIComponent(id)}/plan`, {
      after,
      limit: Math.min(left, 1000),
    });
    printPlanLines(page.items);
    left -= page.items.length;
    if (page.next === undefined) break;
    after = page.next;
  }
}

export function registerActivationCommands(program: Command, api: () => ApiClient): void {
  program
    .command('upload <file>')
    .description('upload a CSV custom upload or an XDM NDJSON file; prints the upload id')
    .action(async (file: string) => {
      const res = await uploadFile(api(), file);
      console.log(`${res.uploadId}  (${res.rows} rows, ${res.format}, ${res.bytes} bytes)`);
    });

  program
    .command('activate <destinationId>')
    .description('activate one or several audiences on a destination (one pass over the members)')
    .option('--audience-id <id>', 'audience id (segmentMembership.ups.<id>); repeat for several audiences', collect, [])
    .option('--audience-name <name>', 'audience name (label of the HubSpot property); one per --audience-id, in order', collect, [])
    .option(
      '--audiences-file <file>',
      'the audiences as a JSON array of {id, name, encoding?} or lines "id,name" (instead of, or after, the pairs)',
    )
    .option('--encoding <encoding>', 'how audiences reach HubSpot: property (default), list (a HubSpot list) or both')
    .option('--full-resync', 'ignore the confirmed-state memory: send every member')
    .option('--exit-missing', 'the members are a complete snapshot: write exited for remembered members not in it')
    .option('--dry-run', 'read HubSpot and print what the run would do; write nothing')
    .option('--mode <mode>', 'upsert (default) | update (never create) | create (never change existing contacts)')
    .option('--max-rejected-percent <n>', 'stop the run once more than this share of the members read is rejected')
    .option('--guard-min-records <n>', 'members read before the rejection guard judges (default 100)')
    .option('--upload <uploadId>', 'members from an earlier upload')
    .option('--file <file>', 'upload this local file first, then activate it')
    .option('--path <path>', "a file on the worker's host, under an allowed source directory")
    .option('--wait', 'show live progress and the summary')
    .action(
      async (
        destinationId: string,
        o: {
          audienceId: string[];
          audienceName: string[];
          audiencesFile?: string;
          encoding?: string;
          fullResync?: boolean;
          exitMissing?: boolean;
          dryRun?: boolean;
          mode?: string;
          maxRejectedPercent?: string;
          guardMinRecords?: string;
          upload?: string;
          file?: string;
          path?: string;
          wait?: boolean;
        },
      ) => {
        const audiences = [
          ...audiencePairs(o.audienceId, o.audienceName),
          ...(o.audiencesFile ? parseAudiencesFile(fs.readFileSync(o.audiencesFile, 'utf8'), o.audiencesFile) : []),
        ];
        if (audiences.length === 0) throw new Error('Give the audiences with --audience-id/--audience-name pairs or --audiences-file.');
        if (o.encoding !== undefined && !ENCODINGS.includes(o.encoding))
          throw new Error(`--encoding is one of ${ENCODINGS.join(', ')} (got '${o.encoding}').`);
        // --encoding sets audiences that do not say their own (a JSON audiences file may).
        const withEncoding = o.encoding
          ? audiences.map((a: AudienceArg) => ({ ...a, encoding: a.encoding ?? (o.encoding as AudienceArg['encoding']) }))
          : audiences;
        const client = api();
        let source: { uploadId: string } | { path: string };
        if (o.file) source = { uploadId: (await uploadFile(client, o.file)).uploadId };
        else if (o.upload) source = { uploadId: o.upload };
        else if (o.path) source = { path: o.path };
        else throw new Error('Give the members with --file, --upload or --path.');
        const options = {
          ...(o.fullResync ? { fullResync: true } : {}),
          ...(o.exitMissing ? { exitMissing: true } : {}),
          ...(o.dryRun ? { dryRun: true } : {}),
          ...(o.mode ? { mode: o.mode } : {}),
          ...(o.maxRejectedPercent !== undefined ? { maxRejectedPercent: Number(o.maxRejectedPercent) } : {}),
          ...(o.guardMinRecords !== undefined ? { guardMinRecords: Number(o.guardMinRecords) } : {}),
        };
        const started = await client.post<Started>(`/v1/destinations/${encodeURIComponent(destinationId)}/activations`, {
          audiences: withEncoding,
          source,
          ...(Object.keys(options).length ? { options } : {}),
        });
        // A dry run is only useful once it has ended: wait for it and print its plan.
        await finish(client, started, Boolean(o.wait || o.dryRun));
        if (o.dryRun) await printPlan(client, started.activationId, 50);
      },
    );

  program
    .command('status <activationId>')
    .description('status, progress and summary of an activation')
    .option('--watch', 'follow it live until it ends')
    .action(async (id: string, o: { watch?: boolean }) => {
      const client = api();
      const a = o.watch
        ? await watchActivation(client, id)
        : await client.get<ActivationViewLike>(`/v1/activations/${encodeURIComponent(id)}`);
      printSummary(a);
    });

  program
    .command('list')
    .description('list activations (from Temporal visibility)')
    .option('--destination <id>')
    .option('--audience <id>')
    .option('--status <status>', 'Running | WaitingDailyLimit | Completed | CompletedWithRejections | Failed | Cancelled')
    .action(async (o: { destination?: string; audience?: string; status?: string }) => {
      const res = await api().get<{
        items: Array<{ activationId: string; status?: string; executionStatus: string; audienceId?: string; startedAt?: string }>;
      }>('/v1/activations', {
        destinationId: o.destination,
        audienceId: o.audience,
        status: o.status,
      });
      for (const x of res.items)
        console.log(
          `${x.activationId}  ${(x.status ?? x.executionStatus).padEnd(24)} audience ${x.audienceId ?? '?'}  ${x.startedAt ?? ''}`,
        );
    });

  program
    .command('rerun <activationId>')
    .description('re-run an activation as a new run')
    .option('--rejected', 'only the members rejected last time')
    .option('--dry-run', 'plan the re-run without writing')
    .option('--wait', 'show live progress and the summary')
    .action(async (id: string, o: { rejected?: boolean; dryRun?: boolean; wait?: boolean }) => {
      const client = api();
      const started = await client.post<Started>(`/v1/activations/${encodeURIComponent(id)}/rerun`, {
        mode: o.rejected ? 'rejected' : 'all',
        ...(o.dryRun ? { dryRun: true } : {}),
      });
      await finish(client, started, Boolean(o.wait || o.dryRun));
      if (o.dryRun) await printPlan(client, started.activationId, 50);
    });

  program
    .command('plan <activationId>')
    .description("a dry run's plan: per member, create / update (old → new) / unchanged / skip / reject")
    .option('--limit <n>', 'at most this many lines', '100')
    .action(async (id: string, o: { limit: string }) => {
      await printPlan(api(), id, Number(o.limit));
    });

  program
    .command('cancel <activationId>')
    .description('cancel a running activation')
    .action(async (id: string) => {
      await api().post(`/v1/activations/${encodeURIComponent(id)}/cancel`);
      console.log(`Cancelling ${id}`);
    });

  program
    .command('rejections <activationId>')
    .description('rejected members with their reasons')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (id: string, o: { limit: string }) => {
      let after = 0;
      let left = Number(o.limit);
      while (left > 0) {
        const page = await api().get<{
          items: Array<{ seq: number; line: number; email?: string; reason: { code: string; message: string } }>;
          next?: number;
        }>(`/v1/activations/${encodeURIComponent(id)}/rejections`, { after, limit: Math.min(left, 1000) });
        for (const r of page.items) console.log(`line ${r.line}  ${r.reason.code}  ${r.email ?? ''}  ${r.reason.message}`);
        left -= page.items.length;
        if (page.next === undefined) break;
        after = page.next;
      }
    });
}
