/** `destinations create|update|list|get|properties`. */
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import type { ApiClient } from '../api-client';

function parseMappings(values: string[]): Array<{ source: string; target: string }> {
  return values.map((v) => {
    const i = v.lastIndexOf('=');
    if (i <= 0 || i === v.length - 1) throw new Error(`--map expects source=target (e.g. person.name.firstName=firstname), got '${v}'.`);
    return { source: v.slice(0, i), target: v.slice(i + 1) };
  });
}

const collect = (v: string, all: string[]) => [...all, v];

export function registerDestinationCommands(program: Command, api: () => ApiClient): void {
  const d = program.command('destinations').description('HubSpot connections with their field mapping');

  d.command('create')
    .description('connect a HubSpot account (the token is checked, never shown again)')
    .requiredOption('--name <name>', 'destination name')
    .option('--description <text>', 'description')
    .option('--token <token>', 'HubSpot private-app token or service key (default: $HUBSPOT_TOKEN)')
    .option('--base-url <url>', 'HubSpot API base URL (default: https://api.hubapi.com)')
    .option('--map <source=target>', 'field mapping, repeatable (e.g. person.name.firstName=firstname)', collect, [])
    .action(async (o: { name: string; description?: string; token?: string; baseUrl?: string; map: string[] }) => {
      const token = o.token ?? loadConfig().hubspot.token;
      if (!token) throw new Error('Give the HubSpot token with --token or $HUBSPOT_TOKEN.');
      const res = await api().post<{ id: string }>('/v1/destinations', {
        name: o.name,
        ...(o.description ? { description: o.description } : {}),
        hubspot: { token, ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}) },
        mapping: { attributes: parseMappings(o.map) },
      });
      console.log(res.id);
    });

  d.command('update <id>')
    .description('change name, description, token or mapping (checked again)')
    .option('--name <name>')
    .option('--description <text>')
    .option('--token <token>', 'new HubSpot token (rotation)')
    .option('--base-url <url>')
    .option('--map <source=target>', 'replace the mapping, repeatable', collect, [])
    .action(async (id: string, o: { name?: string; description?: string; token?: string; baseUrl?: string; map: string[] }) => {
      const hubspot = { ...(o.token ? { token: o.token } : {}), ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}) };
      const res = await api().patch(`/v1/destinations/${encodeURIComponent(id)}`, {
        ...(o.name ? { name: o.name } : {}),
        ...(o.description ? { description: o.description } : {}),
        ...(Object.keys(hubspot).length ? { hubspot } : {}),
        ...(o.map.length ? { mapping: { attributes: parseMappings(o.map) } } : {}),
      });
      console.log(JSON.stringify(res, null, 2));
    });

  d.command('list')
    .description('list destinations')
    .action(async () => {
      const res = await api().get<{ items: Array<{ id: string; name: string; portalId: number; baseUrl: string }> }>('/v1/destinations');
      for (const x of res.items) console.log(`${x.id}  ${x.name}  portal ${x.portalId}  ${x.baseUrl}`);
    });

  d.command('get <id>')
    .description('show a destination')
    .action(async (id: string) => {
      console.log(JSON.stringify(await api().get(`/v1/destinations/${encodeURIComponent(id)}`), null, 2));
    });

  d.command('properties <id>')
    .description("the HubSpot account's contact properties (mapping targets)")
    .action(async (id: string) => {
      const res = await api().get<{ items: Array<{ name: string; type: string; label: string; writable: boolean }> }>(
        `/v1/destinations/${encodeURIComponent(id)}/properties`,
      );
      for (const p of res.items) console.log(`${p.name.padEnd(40)} ${p.type.padEnd(12)} ${p.writable ? '' : '(read-only) '}${p.label}`);
    });
}
