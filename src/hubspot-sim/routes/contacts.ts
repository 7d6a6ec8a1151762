/** Contacts CRUD, list and batch read (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide). Batch upsert and search live apart. */
import { HsError, nonUniqueIdProperty, objectNotFound, propertyValidationError, validationError } from '../hubspot-errors';
import type { Portal } from '../state/accounts';
import { contactJson, DEFAULT_READ_PROPERTIES, type Contact } from '../state/contacts';
import { asObject } from '../state/properties';
import type { PropertyProblem } from '../hubspot-errors';
import { lifecycleProblem } from '../state/lifecycle';
import { validateProperties } from '../state/validate';
import { writeRuleProblems } from '../state/write-rules';
import { conflictingUnique, findByUnique, isUniqueProperty } from '../state/unique-values';
import { normaliseEmail } from '../state/values';
import { listPage, MAX_LIST_LIMIT, parseLimit } from './paging';
import type { AuthedContext, AuthedRoute, Reply } from './types';
import { SCOPES } from './types';
import { enforcesWriteRules, type ApiVersion } from './versions';

export const MAX_BATCH_INPUTS = 100;
export const MAX_HISTORY_INPUTS = 50;

/** `properties=a,b&properties=c` → [a, b, c]; undefined when absent. */
export function requestedProperties(query: URLSearchParams): string[] | undefined {
  const all = query.getAll('properties');
  if (all.length === 0) return undefined;
  return all
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Whether a property name is defined for the portal's contacts (unknown names are left out of records). */
export function definedIn(portal: Portal): (name: string) => boolean {
  return (name) => portal.properties.get(name) !== undefined;
}

/** Admin-configured write rules, enforced on the versions that enforce them. */
function ruleProblems(ctx: AuthedContext, before: Record<string, string> | undefined, values: Record<string, string>): PropertyProblem[] {
  return enforcesWriteRules(ctx.version) ? writeRuleProblems(ctx.portal.behaviour.writeRules, before, values) : [];
}

function conflict(existing: Contact): HsError {
  return new HsError(409, 'CONFLICT', `Contact already exists. Existing ID: ${existing.id}`);
}

/** Resolves `{contactId}` as a record id, or as an email with `idProperty=email`. */
function findContact(portal: Portal, id: string, idProperty: string | null, archived: boolean): Contact | undefined {
  if (!idProperty || idProperty === 'hs_object_id') {
    if (!/^\d+$/.test(id)) return undefined;
    const c = portal.contacts.getIncludingArchived(Number(id));
    return c && c.archived === archived ? c : undefined;
  }
  if (idProperty === 'email') {
    if (archived) return undefined;
    const e = normaliseEmail(id);
    return e ? portal.contacts.byEmailAddress(e) : undefined;
  }
  if (!portal.properties.get(idProperty)) throw validationError(`Property "${idProperty}" does not exist`);
  if (isUniqueProperty(portal, idProperty)) return archived ? undefined : findByUnique(portal, idProperty, id);
  throw nonUniqueIdProperty(idProperty);
}

function create(ctx: AuthedContext): Reply {
  const body = asObject(ctx.body);
  const { values, problems } = validateProperties(ctx.portal.properties, body.properties);
  problems.push(...ruleProblems(ctx, undefined, values));
  if (problems.length) throw propertyValidationError(problems, ctx.portal.portalId);
  if (values.email) {
    const existing = ctx.portal.contacts.byEmailAddress(values.email);
    if (existing) throw conflict(existing);
  }
  const c = ctx.portal.contacts.create(values, ctx.nowIso, ctx.now);
  return { status: 201, body: contactJson(c) };
}

function list(ctx: AuthedContext): Reply {
  const limit = parseLimit(ctx.query.get('limit'), 10, MAX_LIST_LIMIT);
  const props = requestedProperties(ctx.query);
  return {
    status: 200,
    body: listPage(ctx.portal.contacts, {
      limit,
      after: ctx.query.get('after'),
      archived: ctx.query.get('archived') === 'true',
      properties: props ?? DEFAULT_READ_PROPERTIES,
      isDefined: definedIn(ctx.portal),
      linkBase: `${ctx.baseUrl}${ctx.path}`,
      extraQuery: props ? { properties: props.join(',') } : undefined,
    }),
  };
}

function getOne(ctx: AuthedContext): Reply {
  const c = findContact(ctx.portal, ctx.params.contactId, ctx.query.get('idProperty'), ctx.query.get('archived') === 'true');
  if (!c) throw objectNotFound(ctx.params.contactId);
  return { status: 200, body: contactJson(c, requestedProperties(ctx.query) ?? DEFAULT_READ_PROPERTIES, definedIn(ctx.portal)) };
}

function patch(ctx: AuthedContext): Reply {
  const c = findContact(ctx.portal, ctx.params.contactId, ctx.query.get('idProperty'), false);
  if (!c) throw objectNotFound(ctx.params.contactId);
  const body = asObject(ctx.body);
  const { values, problems } = validateProperties(ctx.portal.properties, body.properties);
  const backward = lifecycleProblem(ctx.portal.properties, c.properties, values);
  if (backward) problems.push(backward);
  problems.push(...ruleProblems(ctx, c.properties, values));
  if (problems.length) throw propertyValidationError(problems, ctx.portal.portalId);
  if (values.email) {
    const owner = ctx.portal.contacts.byEmailAddress(values.email);
    if (owner && owner !== c) throw conflict(owner);
  }
  ctx.portal.contacts.update(c, values, ctx.nowIso);
  return { status: 200, body: contactJson(c) };
}

function archive(ctx: AuthedContext): Reply {
  const c = findContact(ctx.portal, ctx.params.contactId, ctx.query.get('idProperty'), false);
  if (c) ctx.portal.contacts.archive(c, ctx.nowIso);
  return { status: 204 };
}

function batchRead(ctx: AuthedContext): Reply {
  const body = asObject(ctx.body);
  const inputs = body.inputs;
  if (!Array.isArray(inputs))
    throw validationError(
      'Invalid input JSON: Cannot build BatchReadInputSimplePublicObjectId, some of required attributes are not set [inputs]',
    );
  if (inputs.length > MAX_BATCH_INPUTS) {
    throw validationError(
      `Too many inputs: ${inputs.length}. The maximum number of inputs supported in a batch request is ${MAX_BATCH_INPUTS}`,
    );
  }
  const history = Array.isArray(body.propertiesWithHistory) ? body.propertiesWithHistory : [];
  if (history.length > 0 && inputs.length > MAX_HISTORY_INPUTS) {
    throw validationError(
      'The maximum number of inputs supported in a batch request for property histories is 50. Please reduce the number of items and try again',
    );
  }
  const names =
    Array.isArray(body.properties) && body.properties.length > 0 ? (body.properties as unknown[]).map(String) : DEFAULT_READ_PROPERTIES;
  const idProperty = typeof body.idProperty === 'string' ? body.idProperty : null;
  const archived = ctx.query.get('archived') === 'true';
  const startedAt = ctx.nowIso;
  const results = [];
  const missing: string[] = [];
  const seen = new Set<number>();
  for (const input of inputs) {
    const id =
      input && typeof input === 'object' && typeof (input as { id?: unknown }).id === 'string' ? (input as { id: string }).id : undefined;
    if (id === undefined)
      throw validationError('Invalid input JSON: Cannot build SimplePublicObjectId, some of required attributes are not set [id]');
    const c = findContact(ctx.portal, id, idProperty, archived);
    if (!c) missing.push(id);
    else if (!seen.has(c.id)) {
      seen.add(c.id);
      results.push(contactJson(c, names, definedIn(ctx.portal)));
    }
  }
  return batchAnswer(
    ctx,
    startedAt,
    results,
    missing,
    'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
  );
}

/** Batch update by record id: 200, or 207 naming the ids it does not have (the others are updated). */
function batchUpdate(ctx: AuthedContext): Reply {
  const inputs = asObject(ctx.body).inputs;
  if (!Array.isArray(inputs)) throw validationError('Invalid input JSON: Cannot build BatchInputSimplePublicObjectBatchInput [inputs]');
  if (inputs.length > MAX_BATCH_INPUTS) {
    throw validationError(
      `Too many inputs: ${inputs.length}. The maximum number of inputs supported in a batch request is ${MAX_BATCH_INPUTS}`,
    );
  }
  const startedAt = ctx.nowIso;
  const found: Array<{ c: Contact; values: Record<string, string> }> = [];
  const missing: string[] = [];
  for (const input of inputs) {
    const o = asObject(input);
    if (typeof o.id !== 'string') throw validationError('Invalid input JSON: Cannot build SimplePublicObjectBatchInput [id]');
    // By record id, or by a custom unique property (`idProperty`); HubSpot refuses `email` here
    // ("Unable to perform update/upsert by non-unique 0-1 property", HubSpot/hubspot-api-nodejs#548).
    const idProperty = typeof o.idProperty === 'string' && o.idProperty !== 'hs_object_id' ? o.idProperty : null;
    if (idProperty === 'email') throw nonUniqueIdProperty('email');
    const c = findContact(ctx.portal, o.id, idProperty, false);
    if (!c) {
      missing.push(o.id);
      continue;
    }
    const { values, problems } = validateProperties(ctx.portal.properties, o.properties);
    // Validated as PATCH is: lifecyclestage forward only, 2026-09 write rules.
    const backward = lifecycleProblem(ctx.portal.properties, c.properties, values);
    if (backward) problems.push(backward);
    problems.push(...ruleProblems(ctx, c.properties, values));
    const clash = conflictingUnique(ctx.portal, values, c);
    if (clash) problems.push({ name: 'email', code: 'CONFLICT', message: `Contact already exists. Existing ID: ${clash.id}` });
    if (problems.length) throw propertyValidationError(problems, ctx.portal.portalId);
    found.push({ c, values });
  }
  for (const { c, values } of found) ctx.portal.contacts.update(c, values, ctx.nowIso);
  return batchAnswer(
    ctx,
    startedAt,
    found.map(({ c }) => contactJson(c)),
    missing,
    'Could not get some CONTACT objects, they may be deleted or not exist.',
  );
}

/** A batch answer by id: 200 with the results, or 207 with one OBJECT_NOT_FOUND error naming the ids it lacks. */
function batchAnswer(ctx: AuthedContext, startedAt: string, results: unknown[], missing: string[], missingMessage: string): Reply {
  const out: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date(ctx.state.clock()).toISOString() };
  if (missing.length === 0) return { status: 200, body: out };
  out.numErrors = 1;
  out.errors = [
    { status: 'error', category: 'OBJECT_NOT_FOUND', message: missingMessage, context: { ids: missing }, errors: [], links: {} },
  ];
  return { status: 207, body: out };
}

export function contactRoutes(base: string, version: ApiVersion = 'v3'): AuthedRoute[] {
  const read = [SCOPES.contactsRead];
  const write = [SCOPES.contactsWrite];
  const emptyBatch = (nowIso: string) => ({ status: 'COMPLETE', results: [], startedAt: nowIso, completedAt: nowIso });
  return [
    { method: 'POST', pattern: base, version, auth: 'token', scopes: write, writes: true, handler: create },
    { method: 'GET', pattern: base, version, auth: 'token', scopes: read, handler: list },
    { method: 'POST', pattern: `${base}/batch/read`, version, auth: 'token', scopes: read, emptyAnswer: emptyBatch, handler: batchRead },
    { method: 'POST', pattern: `${base}/batch/update`, version, auth: 'token', scopes: write, writes: true, handler: batchUpdate },
    { method: 'GET', pattern: `${base}/:contactId`, version, auth: 'token', scopes: read, handler: getOne },
    { method: 'PATCH', pattern: `${base}/:contactId`, version, auth: 'token', scopes: write, writes: true, handler: patch },
    { method: 'DELETE', pattern: `${base}/:contactId`, version, auth: 'token', scopes: write, writes: true, handler: archive },
  ];
}
