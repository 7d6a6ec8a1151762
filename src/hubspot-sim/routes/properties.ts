/** Contact properties and property groups (https://developers.hubspot.com/docs/api/crm/properties). */
import { HsError } from '../hubspot-errors';
import type { PropertyStore } from '../state/properties';
import type { AuthedContext, AuthedRoute, Reply } from './types';
import { PROPERTY_READ_SCOPES } from './property-scopes';
import { SCOPES } from './types';
import type { ApiVersion } from './versions';

const CONTACT_TYPES = new Set(['contacts', 'contact', '0-1']);

function store(ctx: AuthedContext): PropertyStore {
  const t = ctx.params.objectType;
  if (!CONTACT_TYPES.has(t)) throw new HsError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${t}`);
  return ctx.portal.properties;
}

const archivedParam = (ctx: AuthedContext) => ctx.query.get('archived') === 'true';

const handlers = {
  list: (ctx: AuthedContext): Reply => ({ status: 200, body: { results: store(ctx).list(archivedParam(ctx)) } }),
  get: (ctx: AuthedContext): Reply => ({ status: 200, body: store(ctx).getJson(ctx.params.propertyName, archivedParam(ctx)) }),
  // "Location" names the new property (HubSpot answers 201 Created with it; https://developers.hubspot.com/docs/api-reference/latest/crm/properties/guide).
  create: (ctx: AuthedContext): Reply => {
    const property = store(ctx).create(ctx.body).property;
    return { status: 201, body: property, headers: { Location: `${ctx.baseUrl}${ctx.path}/${encodeURIComponent(property.name)}` } };
  },
  update: (ctx: AuthedContext): Reply => ({ status: 200, body: store(ctx).update(ctx.params.propertyName, ctx.body) }),
  archive: (ctx: AuthedContext): Reply => {
    store(ctx).archive(ctx.params.propertyName);
    return { status: 204 };
  },
  listGroups: (ctx: AuthedContext): Reply => ({ status: 200, body: { results: store(ctx).listGroups(archivedParam(ctx)) } }),
  getGroup: (ctx: AuthedContext): Reply => ({ status: 200, body: store(ctx).getGroup(ctx.params.groupName) }),
  createGroup: (ctx: AuthedContext): Reply => ({ status: 201, body: store(ctx).createGroup(ctx.body) }),
};

export function propertyRoutes(base: string, version: ApiVersion = 'v3'): AuthedRoute[] {
  const read = [...PROPERTY_READ_SCOPES];
  const write = [SCOPES.schemasWrite];
  const b = `${base}/:objectType`;
  // Group routes first: `groups` would otherwise match `:propertyName`.
  const routes: Omit<AuthedRoute, 'version'>[] = [
    { method: 'GET', pattern: `${b}/groups`, auth: 'token', scopes: read, handler: handlers.listGroups },
    { method: 'POST', pattern: `${b}/groups`, auth: 'token', scopes: write, writes: true, handler: handlers.createGroup },
    { method: 'GET', pattern: `${b}/groups/:groupName`, auth: 'token', scopes: read, handler: handlers.getGroup },
    { method: 'GET', pattern: b, auth: 'token', scopes: read, handler: handlers.list },
    { method: 'POST', pattern: b, auth: 'token', scopes: write, writes: true, handler: handlers.create },
    { method: 'GET', pattern: `${b}/:propertyName`, auth: 'token', scopes: read, handler: handlers.get },
    { method: 'PATCH', pattern: `${b}/:propertyName`, auth: 'token', scopes: write, writes: true, handler: handlers.update },
    { method: 'DELETE', pattern: `${b}/:propertyName`, auth: 'token', scopes: write, writes: true, handler: handlers.archive },
  ];
  return routes.map((r) => ({ ...r, version }));
}
