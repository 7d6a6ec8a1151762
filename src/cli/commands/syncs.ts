/** `connections create|list|get|update|delete` and `syncs create|list|get|update|trigger|pause|resume|delete` (docs/syncs.md). */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { ApiClient } from '../api-client';
import { audiencePairs } from './activations';

const collect = (v: string, all: string[]) => [...all, v];
const show = (x: unknown) => console.log(JSON.stringify(x, null, 2));
const enc = encodeURIComponent;

export function registerConnectionCommands(program: Command, api: () => ApiClient): void {
  const c = program.command('connections').description('databases SQL sources read (the URL is checked, stored sealed, never shown)');

  c.command('create')
    .description('add a PostgreSQL connection (checked with a read-only query)')
    .requiredOption('--name <name>', 'connection name')
    .requiredOption('--url <url>', 'postgres://user:password@host:5432/database')
    .action(async (o: { name: string; url: string }) => {
      const url = o.url;
      const res = await api().post<{ id: string; url: string }>('/v1/connections', { name: o.name, kind: 'postgres', url });
      console.log(`${res.id}  ${res.url}`);
    });

  c.command('list')
    .description('list connections (URLs without their password)')
    .action(async () => {
      const res = await api().get<{ items: Array<{ id: string; name: string; url: string; origin: string }> }>('/v1/connections');
      for (const x of res.items) console.log(`${x.id}  ${x.name}  ${x.url}${x.origin === 'environment' ? '  (SOURCE_CONNECTIONS)' : ''}`);
    });

  c.command('get <id>').action(async (id: string) => show(await api().get(`/v1/connections/${enc(id)}`)));

  c.command('update <id>')
    .description('rename a connection or change its URL (checked again)')
    .option('--name <name>')
    .option('--url <url>')
    .action(async (id: string, o: { name?: string; url?: string }) =>
      show(await api().patch(`/v1/connections/${enc(id)}`, { ...(o.name ? { name: o.name } : {}), ...(o.url ? { url: o.url } : {}) })),
    );

  c.command('delete <id>')
    .description('delete a connection no sync uses')
    .action(async (id: string) => {
      await api().delete(`/v1/connections/${enc(id)}`);
      console.log(`deleted ${id}`);
    });
}

interface SourceOptions {
  file?: string;
  connection?: string;
  query?: string;
  queryFile?: string;
  key?: string;
}

function sourceOf(o: SourceOptions): Record<string, unknown> | undefined {
  const query = o.queryFile ? fs.readFileSync(o.queryFile, 'utf8') : o.query;
  if (o.file && (o.connection || query)) throw new Error('Give either --file, or --connection with --query / --query-file.');
  if (o.file) return { path: o.file };
  if (o.connection || query) {
    if (!o.connection || !query) throw new Error('A query source needs --connection and --query (or --query-file).');
    return { sql: { connectionId: o.connection, query, ...(o.key ? { key: o.key } : {}) } };
  }
  return undefined;
}

function scheduleOf(o: { every?: string; cron?: string; timeZone?: string }): Record<string, unknown> | undefined {
  if (o.every && o.cron) throw new Error('Give either --every or --cron.');
  if (o.every) return { every: o.every };
  if (o.cron) return { cron: o.cron, ...(o.timeZone ? { timeZone: o.timeZone } : {}) };
  return undefined;
}

const sourceFlags = (cmd: Command) =>
  cmd
    .option('--file <path>', "a file under the worker's allowed source folders (a nightly export)")
    .option('--connection <id>', 'a source connection (connections list)')
    .option('--query <sql>', 'one SELECT; column names are source paths (email, first_name AS "person.name.firstName", …)')
    .option('--query-file <file>', 'read the SELECT from a file')
    .option('--key <column>', 'unique column the rows are paged by (default email)')
    .option('--every <interval>', 'run every 15s, 30m, 1h, 1d …')
    .option('--cron <expr>', 'run on a cron expression, e.g. "0 * * * *"')
    .option('--time-zone <tz>', 'IANA time zone of --cron (default UTC)')
    .option('--audience-id <id>', 'audience id; repeat for several audiences', collect, [])
    .option('--audience-name <name>', 'audience name, one per --audience-id', collect, []);

type SyncFlags = SourceOptions & {
  name?: string;
  every?: string;
  cron?: string;
  timeZone?: string;
  audienceId: string[];
  audienceName: string[];
  fullResync?: boolean;
  exitMissing?: boolean;
};

export function registerSyncCommands(program: Command, api: () => ApiClient): void {
  const s = program.command('syncs').description('activations on a schedule, from a query or a file (Temporal Schedules)');

  sourceFlags(s.command('create <destinationId>').description('sync audiences on a schedule'))
    .requiredOption('--name <name>', 'sync name')
    .option('--full-resync', 'send every member on every run (ignore the confirmed-state memory)')
    .option('--exit-missing', 'every run is a complete snapshot: exited for remembered members it lacks')
    .action(async (destinationId: string, o: SyncFlags) => {
      const source = sourceOf(o);
      const schedule = scheduleOf(o);
      if (!source) throw new Error('Give a source: --file, or --connection with --query.');
      if (!schedule) throw new Error('Give a schedule: --every or --cron.');
      const options = { ...(o.fullResync ? { fullResync: true } : {}), ...(o.exitMissing ? { exitMissing: true } : {}) };
      const res = await api().post<{ id: string; nextRunTimes?: string[] }>(`/v1/destinations/${enc(destinationId)}/syncs`, {
        name: o.name,
        audiences: audiencePairs(o.audienceId, o.audienceName),
        source,
        schedule,
        ...(Object.keys(options).length ? { options } : {}),
      });
      console.log(`${res.id}${res.nextRunTimes?.[0] ? `  next run ${res.nextRunTimes[0]}` : ''}`);
    });

  s.command('list')
    .option('--destination <id>', 'only this destination')
    .action(async (o: { destination?: string }) => {
      const res = await api().get<{
        items: Array<{ id: string; name: string; destinationId: string; paused?: boolean; nextRunTimes?: string[] }>;
      }>('/v1/syncs', o.destination ? { destinationId: o.destination } : undefined);
      for (const x of res.items)
        console.log(`${x.id}  ${x.name}  → ${x.destinationId}  ${x.paused ? 'paused' : `next ${x.nextRunTimes?.[0] ?? '-'}`}`);
    });

  s.command('get <id>')
    .description('a sync with its recent runs and next run times')
    .action(async (id: string) => show(await api().get(`/v1/syncs/${enc(id)}`)));

  sourceFlags(s.command('update <id>').description('change the name, source or query, schedule or audiences'))
    .option('--name <name>')
    .action(async (id: string, o: SyncFlags) => {
      const source = sourceOf(o);
      const schedule = scheduleOf(o);
      show(
        await api().patch(`/v1/syncs/${enc(id)}`, {
          ...(o.name ? { name: o.name } : {}),
          ...(source ? { source } : {}),
          ...(schedule ? { schedule } : {}),
          ...(o.audienceId.length ? { audiences: audiencePairs(o.audienceId, o.audienceName) } : {}),
        }),
      );
    });

  s.command('trigger <id>')
    .description('run a sync now; prints the activation id (follow it with `status <id> --watch`)')
    .action(async (id: string) => {
      console.log((await api().post<{ activationId: string }>(`/v1/syncs/${enc(id)}/trigger`)).activationId);
    });

  for (const action of ['pause', 'resume'] as const)
    s.command(`${action} <id>`).action(async (id: string) => {
      const res = await api().post<{ paused?: boolean }>(`/v1/syncs/${enc(id)}/${action}`);
      console.log(res.paused ? 'paused' : 'running');
    });

  s.command('delete <id>')
    .description('delete a sync and its Temporal Schedule')
    .action(async (id: string) => {
      await api().delete(`/v1/syncs/${enc(id)}`);
      console.log(`deleted ${id}`);
    });
}
