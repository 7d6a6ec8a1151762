/**
 * HubSpot's Lists API (v3 and dated versions; docs/hubspot-simulator.md, "Lists"): create a list, find it
 * by name or id, write memberships of MANUAL/SNAPSHOT lists by record id, page through memberships.
 * Sources: https://developers.hubspot.com/docs/api-reference/latest/crm/lists/guide and
 * HubSpot/HubSpot-public-api-spec-collection PublicApiSpecs/CRM/Lists/Rollouts/144891/<version>/lists.json.
 */
import { HsError, validationError } from '../hubspot-errors';
import type { Portal } from '../state/accounts';
import {
  LIST_CAPS,
  MAX_LIST_MEMBERS,
  MAX_MEMBERSHIP_IDS_PER_CALL,
  PROCESSING_TYPES,
  writable,
  type ListDef,
  type ProcessingType,
} from '../state/lists';
import { asObject } from '../state/properties';
import { decodeCursor, encodeCursor, parseLimit } from './paging';
import type { AuthedContext, AuthedRoute, Reply } from './types';
import type { ApiVersion } from './versions';

export const LIST_SCOPES = { read: 'crm.lists.read', write: 'crm.lists.write' } as const;
/** Memberships per page (`limit`): default 100, at most 250 (the spec's paging of memberships). */
export const MEMBERSHIP_PAGE_DEFAULT = 100;
export const MEMBERSHIP_PAGE_MAX = 250;

/** `/crm/v3/lists` or `/crm/lists/<version>` (PublicApiSpecs/CRM/Lists/Rollouts/144891/{v3,2025-09,2026-03,2026-09}/lists.json). */
export function listsBase(v: ApiVersion): string {
  return v === 'v3' ? '/crm/v3/lists' : `/crm/lists/${v}`;
}

/** The contacts object type; lists of other object types exist, but this simulator holds contacts only. */
const CONTACTS = '0-1';

function listJson(portal: Portal, def: ListDef): Record<string, unknown> {
  return {
    listId: String(def.listId),
    listVersion: def.listVersion,
    name: def.name,
    objectTypeId: def.objectTypeId,
    processingType: def.processingType,
    processingStatus: 'COMPLETE',
    createdAt: def.createdAt,
    updatedAt: def.updatedAt,
    size: liveCount(portal, def),
    ...(def.filterBranch !== undefined ? { filterBranch: def.filterBranch } : {}),
  };
}

/** Member ids that are still live contacts, ascending (archived and merged-away records have left the list). */
function liveMembers(portal: Portal, def: ListDef): number[] {
  const out: number[] = [];
  for (const id of portal.lists.members(def.listId)) if (def.objectTypeId === CONTACTS && portal.contacts.get(id)) out.push(id);
  return out.sort((a, b) => a - b);
}

function liveCount(portal: Portal, def: ListDef): number {
  if (def.objectTypeId !== CONTACTS) return 0;
  let n = 0;
  for (const id of portal.lists.members(def.listId)) if (portal.contacts.get(id)) n++;
  return n;
}

function listNotFound(id: string): HsError {
  return new HsError(404, 'OBJECT_NOT_FOUND', `List ${id} does not exist.`, { context: { listId: [id] } });
}

function findList(ctx: AuthedContext): ListDef {
  const raw = ctx.params.listId;
  const def = /^\d+$/.test(raw) ? ctx.portal.lists.get(Number(raw)) : undefined;
  if (!def) throw listNotFound(raw);
  return def;
}

function create(ctx: AuthedContext): Reply {
  const body = asObject(ctx.body);
  const missing = ['name', 'objectTypeId', 'processingType'].filter((k) => typeof body[k] !== 'string' || body[k] === '');
  if (missing.length)
    throw validationError(
      `Invalid input JSON: Cannot build ListCreateRequest, some of required attributes are not set [${missing.join(', ')}]`,
    );
  const name = (body.name as string).trim();
  const objectTypeId = body.objectTypeId as string;
  const processingType = body.processingType as ProcessingType;
  if (!PROCESSING_TYPES.includes(processingType))
    throw validationError(`processingType must be one of ${PROCESSING_TYPES.join(', ')}, got ${String(body.processingType)}`);
  if (!/^\d+-\d+$/.test(objectTypeId)) throw validationError(`Unknown objectTypeId ${objectTypeId}`);
  if (name === '') throw validationError('A list name may not be blank.');
  if (ctx.portal.lists.nameTaken(name)) {
    throw new HsError(409, 'CONFLICT', `A list named '${name}' already exists.`, { context: { listName: [name] } });
  }
  const caps = LIST_CAPS[ctx.portal.tier];
  const isStatic = processingType !== 'DYNAMIC';
  const held = ctx.portal.lists.countOf(isStatic ? ['MANUAL', 'SNAPSHOT'] : ['DYNAMIC']);
  const cap = isStatic ? caps.static : caps.dynamic;
  if (held >= cap) {
    throw validationError(`This account has reached its limit of ${cap} ${isStatic ? 'static' : 'active'} lists.`, {
      subCategory: 'ListsLimit.LIST_LIMIT_REACHED',
    });
  }
  const def = ctx.portal.lists.create(
    { name, objectTypeId, processingType, ...(body.filterBranch !== undefined ? { filterBranch: body.filterBranch } : {}) },
    ctx.nowIso,
  );
  return { status: 200, body: { list: listJson(ctx.portal, def) } };
}

function byName(ctx: AuthedContext): Reply {
  const def = ctx.portal.lists.byListName(ctx.params.listName, ctx.params.objectTypeId);
  if (!def) throw new HsError(404, 'OBJECT_NOT_FOUND', `List with name ${ctx.params.listName} does not exist.`);
  return { status: 200, body: { list: listJson(ctx.portal, def) } };
}

function byId(ctx: AuthedContext): Reply {
  return { status: 200, body: { list: listJson(ctx.portal, findList(ctx)) } };
}

/** A JSON array of record ids (strings or numbers), as the membership bodies carry them. */
function idArray(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw validationError(`Invalid input JSON: ${field} must be an array of record ids`);
  return value.map((v) => {
    if (typeof v !== 'string' && typeof v !== 'number') throw validationError(`Invalid input JSON: ${field} must hold record ids`);
    return String(v);
  });
}

/**
 * One membership write: ids that are not live records of the list's object type come back in
 * `recordIdsMissing`; ids already in (or not in) the list are ignored. DYNAMIC lists refuse.
 */
function writeMembers(ctx: AuthedContext, add: string[], remove: string[]): Reply {
  const def = findList(ctx);
  if (!writable(def)) {
    throw validationError(
      `List ${def.listId} has processingType ${def.processingType}; memberships can only be changed for MANUAL or SNAPSHOT lists.`,
    );
  }
  if (add.length + remove.length > MAX_MEMBERSHIP_IDS_PER_CALL) {
    throw validationError(
      `Too many record ids: ${add.length + remove.length}. At most ${MAX_MEMBERSHIP_IDS_PER_CALL} record ids may be sent in one membership request.`,
    );
  }
  const members = ctx.portal.lists.members(def.listId);
  const live = (id: string): number | undefined => {
    if (def.objectTypeId !== CONTACTS || !/^\d+$/.test(id)) return undefined;
    return ctx.portal.contacts.get(Number(id)) ? Number(id) : undefined;
  };
  const missing: string[] = [];
  const toRemove = new Set<number>();
  const addSet = new Set<number>();
  for (const id of remove) {
    const n = live(id);
    if (n === undefined) missing.push(id);
    else if (members.has(n)) toRemove.add(n);
  }
  for (const id of add) {
    const n = live(id);
    if (n === undefined) missing.push(id);
    else if (!members.has(n) || toRemove.has(n)) addSet.add(n);
  }
  const size = liveCount(ctx.portal, def) - toRemove.size + addSet.size;
  if (size > MAX_LIST_MEMBERS) {
    throw validationError(`List ${def.listId} would hold ${size} records; a list holds at most ${MAX_LIST_MEMBERS}.`);
  }
  for (const n of toRemove) members.delete(n);
  for (const n of addSet) members.add(n);
  if (toRemove.size || addSet.size) ctx.portal.lists.touch(def.listId, ctx.nowIso);
  return {
    status: 200,
    body: {
      recordIdsMissing: [...new Set(missing)],
      recordIdsRemoved: [...toRemove].map(String),
      recordsIdsAdded: [...addSet].map(String),
    },
  };
}

function memberships(ctx: AuthedContext): Reply {
  const def = findList(ctx);
  const limit = parseLimit(ctx.query.get('limit'), MEMBERSHIP_PAGE_DEFAULT, MEMBERSHIP_PAGE_MAX);
  const from = decodeCursor(ctx.query.get('after'));
  const ids = liveMembers(ctx.portal, def);
  let lo = 0;
  while (lo < ids.length && ids[lo] < from) lo++;
  const page = ids.slice(lo, lo + limit);
  const body: Record<string, unknown> = {
    results: page.map((recordId) => ({ recordId: String(recordId), membershipTimestamp: def.updatedAt })),
    total: ids.length,
  };
  if (lo + limit < ids.length) {
    const after = encodeCursor(ids[lo + limit]);
    body.paging = { next: { after, link: `${ctx.baseUrl}${ctx.path}?after=${encodeURIComponent(after)}&limit=${limit}` } };
  }
  return { status: 200, body };
}

export function listRoutes(version: ApiVersion): AuthedRoute[] {
  const base = listsBase(version);
  const read = [LIST_SCOPES.read];
  const write = [LIST_SCOPES.write];
  const common = { version, auth: 'token' as const };
  return [
    { ...common, method: 'POST', pattern: base, scopes: write, writes: true, handler: create },
    { ...common, method: 'GET', pattern: `${base}/object-type-id/:objectTypeId/name/:listName`, scopes: read, handler: byName },
    { ...common, method: 'GET', pattern: `${base}/:listId`, scopes: read, handler: byId },
    { ...common, method: 'GET', pattern: `${base}/:listId/memberships`, scopes: read, handler: memberships },
    {
      ...common,
      method: 'PUT',
      pattern: `${base}/:listId/memberships/add`,
      scopes: write,
      writes: true,
      handler: (ctx) => writeMembers(ctx, idArray(ctx.body, 'body'), []),
    },
    {
      ...common,
      method: 'PUT',
      pattern: `${base}/:listId/memberships/remove`,
      scopes: write,
      writes: true,
      handler: (ctx) => writeMembers(ctx, [], idArray(ctx.body, 'body')),
    },
    {
      ...common,
      method: 'PUT',
      pattern: `${base}/:listId/memberships/add-and-remove`,
      scopes: write,
      writes: true,
      handler: (ctx) => {
        const body = asObject(ctx.body);
        return writeMembers(
          ctx,
          idArray(body.recordIdsToAdd ?? [], 'recordIdsToAdd'),
          idArray(body.recordIdsToRemove ?? [], 'recordIdsToRemove'),
        );
      },
    },
  ];
}
