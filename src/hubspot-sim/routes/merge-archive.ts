/**
 * What HubSpot users do to contacts behind an integration's back: merge two contacts
 * (`POST …/contacts/merge`, https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide)
 * and archive them in bulk (`POST …/contacts/batch/archive`). Semantics in docs/hubspot-simulator.md, "Merges and archives".
 */
import { HsError, objectNotFound, validationError } from '../hubspot-errors';
import { contactJson } from '../state/contacts';
import { asObject } from '../state/properties';
import { MAX_BATCH_INPUTS } from './contacts';
import type { AuthedContext, AuthedRoute, Reply } from './types';
import { SCOPES } from './types';
import type { ApiVersion } from './versions';

function idOf(v: unknown, field: string): number {
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || s === '')
    throw validationError(`Invalid input JSON: Cannot build PublicMergeInput, some of required attributes are not set [${field}]`);
  if (!/^\d+$/.test(s)) throw objectNotFound(s);
  return Number(s);
}

function merge(ctx: AuthedContext): Reply {
  const body = asObject(ctx.body);
  const primaryId = idOf(body.primaryObjectId, 'primaryObjectId');
  const otherId = idOf(body.objectIdToMerge, 'objectIdToMerge');
  if (primaryId === otherId) throw validationError('The two objects to merge must be different.');
  const contacts = ctx.portal.contacts;
  const primary = contacts.get(primaryId);
  if (!primary) throw objectNotFound(String(primaryId));
  const other = contacts.get(otherId);
  if (!other) throw objectNotFound(String(otherId));
  contacts.merge(primary, other, ctx.nowIso);
  ctx.portal.lists.moveMember(otherId, primaryId);
  return { status: 200, body: contactJson(primary) };
}

/** Batch archive: 204 whatever the ids (already archived or unknown ids too), like the properties' batch archive. */
function batchArchive(ctx: AuthedContext): Reply {
  const inputs = asObject(ctx.body).inputs;
  if (!Array.isArray(inputs)) throw validationError('Invalid input JSON: Cannot build BatchInputSimplePublicObjectId [inputs]');
  if (inputs.length > MAX_BATCH_INPUTS) {
    throw validationError(
      `Too many inputs: ${inputs.length}. The maximum number of inputs supported in a batch request is ${MAX_BATCH_INPUTS}`,
    );
  }
  for (const input of inputs) {
    const id = asObject(input).id;
    if (typeof id !== 'string') throw new HsError(400, 'VALIDATION_ERROR', 'Invalid input JSON: Cannot build SimplePublicObjectId [id]');
    const c = /^\d+$/.test(id) ? ctx.portal.contacts.get(Number(id)) : undefined;
    if (c) ctx.portal.contacts.archive(c, ctx.nowIso);
  }
  return { status: 204 };
}

export function mergeArchiveRoutes(base: string, version: ApiVersion = 'v3'): AuthedRoute[] {
  const write = [SCOPES.contactsWrite];
  return [
    { method: 'POST', pattern: `${base}/merge`, version, auth: 'token', scopes: write, writes: true, handler: merge },
    { method: 'POST', pattern: `${base}/batch/archive`, version, auth: 'token', scopes: write, writes: true, handler: batchArchive },
  ];
}
