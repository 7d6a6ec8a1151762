/**
 * Source connections: databases SQL sources read (docs/syncs.md). A URL is checked with a read-only
 * query before it is saved (422 saying what failed), stored sealed and never returned or logged: views
 * show it without its password. Connections from SOURCE_CONNECTIONS are listed too and are read-only here.
 */
import { z } from 'zod';
import { AppError } from '../../errors';
import { checkConnection, checkPostgresUrl } from '../../members/source-connection';
import { newConnectionId } from '../../util/ids';
import { ErrorBody, IdParams } from '../schemas';
import { ConnectionViewSchema, CreateConnectionBody, UpdateConnectionBody } from '../sync-schemas';
import type { ApiDeps, TypedApp } from '../app-types';

const tags = ['connections'];

async function checkedUrl(url: string): Promise<string> {
  const problem = checkPostgresUrl(url);
  if (problem) throw new AppError('VALIDATION_FAILED', problem, { status: 422 });
  await checkConnection(url);
  return url;
}

export function registerConnectionRoutes(app: TypedApp, deps: ApiDeps): void {
  const { services } = deps;
  const readOnly = (id: string) =>
    new AppError('CONFLICT', `Connection ${id} is configured by the environment (SOURCE_CONNECTIONS); change it there.`);

  app.post(
    '/v1/connections',
    {
      schema: {
        tags,
        summary: 'Add a PostgreSQL source connection (checked with a read-only query; the URL is stored sealed and never shown again)',
        body: CreateConnectionBody,
        response: { 201: ConnectionViewSchema, 400: ErrorBody, 422: ErrorBody },
      },
    },
    async (req, reply) => {
      const url = await checkedUrl(req.body.url);
      const view = await services.connections.insert({
        id: newConnectionId(),
        name: req.body.name,
        url,
        createdAt: new Date().toISOString(),
      });
      return reply.status(201).send(view);
    },
  );

  app.get(
    '/v1/connections',
    {
      schema: {
        tags,
        summary: 'Source connections (URLs without their password)',
        response: { 200: z.object({ items: z.array(ConnectionViewSchema) }) },
      },
    },
    async () => ({ items: await services.connections.list() }),
  );

  app.get(
    '/v1/connections/:id',
    { schema: { tags, summary: 'A source connection', params: IdParams, response: { 200: ConnectionViewSchema, 404: ErrorBody } } },
    async (req) => {
      const c = await services.connections.get(req.params.id);
      if (!c) throw new AppError('NOT_FOUND', `Connection ${req.params.id} does not exist.`);
      return c;
    },
  );

  app.patch(
    '/v1/connections/:id',
    {
      schema: {
        tags,
        summary: 'Rename a connection or change its URL (checked again)',
        params: IdParams,
        body: UpdateConnectionBody,
        response: { 200: ConnectionViewSchema, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (services.connections.isPreconfigured(id)) throw readOnly(id);
      if (!(await services.connections.get(id))) throw new AppError('NOT_FOUND', `Connection ${id} does not exist.`);
      const url = req.body.url === undefined ? undefined : await checkedUrl(req.body.url);
      const view = await services.connections.update(id, {
        ...(req.body.name ? { name: req.body.name } : {}),
        ...(url ? { url } : {}),
        updatedAt: new Date().toISOString(),
      });
      if (!view) throw new AppError('NOT_FOUND', `Connection ${id} does not exist.`);
      return view;
    },
  );

  app.delete(
    '/v1/connections/:id',
    {
      schema: {
        tags,
        summary: 'Delete a connection no sync uses',
        params: IdParams,
        response: { 204: z.null(), 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (services.connections.isPreconfigured(id)) throw readOnly(id);
      const users = await services.syncs.usingConnection(id);
      if (users.length)
        throw new AppError(
          'CONFLICT',
          `Connection ${id} is used by sync(s) ${users.join(', ')}; delete them or point them elsewhere first.`,
          {
            details: { syncIds: users },
          },
        );
      if (!(await services.connections.delete(id))) throw new AppError('NOT_FOUND', `Connection ${id} does not exist.`);
      return reply.status(204).send(null);
    },
  );
}
