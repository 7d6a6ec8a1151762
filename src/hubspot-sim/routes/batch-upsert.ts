/**
 * `POST …/contacts/batch/upsert` (v3 and dated paths) with HubSpot's semantics (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide, docs/hubspot-simulator.md):
 * ≤100 inputs; duplicate ids reject the batch; one invalid record rejects the whole batch (nothing
 * written) unless every input carries a unique `objectWriteTraceId` and the account plays per-record
 * partial upserts, in which case the good records are written and the bad ones come back in `errors[]`
 * with a 207. Results are shuffled; they echo trace ids unless the account says not to.
 */
import type { PropertyProblem } from '../hubspot-errors';
import { nonUniqueIdProperty, propertyValidationError, validationError, validationParts } from '../hubspot-errors';
import type { Contact } from '../state/contacts';
import { asObject } from '../state/properties';
import { lifecycleProblem } from '../state/lifecycle';
import { validateProperties } from '../state/validate';
import { writeRuleProblems } from '../state/write-rules';
import { conflictingUnique, findByUnique, isUniqueProperty } from '../state/unique-values';
import { normaliseEmail } from '../state/values';
import { MAX_BATCH_INPUTS } from './contacts';
import type { AuthedContext, AuthedRoute, Reply } from './types';
import { SCOPES } from './types';
import { enforcesWriteRules, type ApiVersion } from './versions';

interface Checked {
  id: string;
  /** `email`, or a custom property created with `hasUniqueValue` (state/unique-values.ts). */
  idProperty: string;
  /** The contact the id resolves to (by a custom unique property; email inputs resolve at write time). */
  target?: Contact;
  email?: string;
  values: Record<string, string>;
  problems: PropertyProblem[];
  traceId?: string;
}

interface UpsertResult {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: false;
  new: boolean;
  objectWriteTraceId?: string;
}

function parseInputs(ctx: AuthedContext, body: Record<string, unknown>): Record<string, unknown>[] {
  const inputs = body.inputs;
  if (!Array.isArray(inputs)) {
    throw validationError(
      'Invalid input JSON: Cannot build BatchInputSimplePublicObjectBatchInputUpsert, some of required attributes are not set [inputs]',
    );
  }
  if (inputs.length > MAX_BATCH_INPUTS) {
    throw validationError(
      `Too many inputs: ${inputs.length}. The maximum number of inputs supported in a batch request is ${MAX_BATCH_INPUTS}`,
      {
        context: { maxInputs: [String(MAX_BATCH_INPUTS)], inputs: [String(inputs.length)] },
      },
    );
  }
  return inputs.map((raw) => {
    const input = asObject(raw);
    if (typeof input.id !== 'string' || input.id === '') {
      throw validationError(
        'Invalid input JSON: Cannot build SimplePublicObjectBatchInputUpsert, some of required attributes are not set [id]',
      );
    }
    if (input.properties === undefined || input.properties === null || typeof input.properties !== 'object') {
      throw validationError(
        'Invalid input JSON: Cannot build SimplePublicObjectBatchInputUpsert, some of required attributes are not set [properties]',
      );
    }
    // Email and custom properties created with hasUniqueValue key an upsert; anything else (hs_object_id included) is refused.
    const idProperty = input.idProperty ?? 'hs_object_id';
    if (typeof idProperty !== 'string' || !isUniqueProperty(ctx.portal, idProperty)) throw nonUniqueIdProperty(String(idProperty));
    return input;
  });
}

function rejectDuplicates(inputs: Record<string, unknown>[]): void {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const input of inputs) {
    const key = (input.id as string).trim().toLowerCase();
    if (seen.has(key)) {
      if (!dups.includes(key)) dups.push(key);
    } else seen.add(key);
  }
  if (dups.length) {
    throw validationError(`Duplicate IDs found in batch input: [${dups.join(', ')}]. IDs must be unique`, { context: { ids: dups } });
  }
}

/** Every input carries an objectWriteTraceId and no two share one: per-record errors are allowed. */
function tracedBatch(inputs: Record<string, unknown>[]): boolean {
  const ids = new Set<string>();
  for (const input of inputs) {
    const t = input.objectWriteTraceId;
    if (typeof t !== 'string' || t === '' || ids.has(t)) return false;
    ids.add(t);
  }
  return inputs.length > 0;
}

/** An upsert keyed by a custom unique property: the id is that property's value; email is an ordinary value. */
function checkByUnique(ctx: AuthedContext, input: Record<string, unknown>, idProperty: string): Checked {
  const { values, problems } = validateProperties(ctx.portal.properties, input.properties);
  const id = input.id as string;
  const target = findByUnique(ctx.portal, idProperty, id);
  const clash = conflictingUnique(ctx.portal, { ...values, [idProperty]: id }, target);
  if (clash) problems.push({ name: idProperty, code: 'CONFLICT', message: `Contact already exists. Existing ID: ${clash.id}` });
  const backward = lifecycleProblem(ctx.portal.properties, target?.properties, values);
  if (backward) problems.push(backward);
  if (enforcesWriteRules(ctx.version)) problems.push(...writeRuleProblems(ctx.portal.behaviour.writeRules, target?.properties, values));
  const traceId = typeof input.objectWriteTraceId === 'string' ? input.objectWriteTraceId : undefined;
  return { id, idProperty, target, email: values.email, values, problems, traceId };
}

function check(ctx: AuthedContext, input: Record<string, unknown>): Checked {
  const idProperty = input.idProperty as string;
  if (idProperty !== 'email') return checkByUnique(ctx, input, idProperty);
  const validated = validateProperties(ctx.portal.properties, input.properties);
  const values = validated.values;
  let problems = validated.problems;
  const id = input.id as string;
  const email = normaliseEmail(id);
  if (!email) {
    // One INVALID_EMAIL per record: a bad `properties.email` next to a bad id is the same problem.
    problems = problems.filter((p) => !(p.name === 'email' && p.code === 'INVALID_EMAIL'));
    problems.unshift({ name: 'email', code: 'INVALID_EMAIL', message: `Email address ${id} is invalid` });
  } else {
    const target = ctx.portal.contacts.byEmailAddress(email);
    if (values.email && values.email !== email) {
      // Changing the primary email through an upsert: refused when the new address belongs to someone else.
      const owner = ctx.portal.contacts.byEmailAddress(values.email);
      if (owner && owner !== target)
        problems.push({ name: 'email', code: 'CONFLICT', message: `Contact already exists. Existing ID: ${owner.id}` });
    }
    const backward = lifecycleProblem(ctx.portal.properties, target?.properties, values);
    if (backward) problems.push(backward);
    if (enforcesWriteRules(ctx.version)) problems.push(...writeRuleProblems(ctx.portal.behaviour.writeRules, target?.properties, values));
    const { email: _email, ...others } = values;
    const clash = conflictingUnique(ctx.portal, others, target);
    if (clash) problems.push({ name: 'email', code: 'CONFLICT', message: `Contact already exists. Existing ID: ${clash.id}` });
  }
  const traceId = typeof input.objectWriteTraceId === 'string' ? input.objectWriteTraceId : undefined;
  return { id, idProperty, email, values, problems, traceId };
}

function write(ctx: AuthedContext, rec: Checked): UpsertResult {
  const contacts = ctx.portal.contacts;
  if (rec.idProperty !== 'email') {
    // Resolved again: an earlier input of this batch may have created the contact.
    const found = rec.target ?? findByUnique(ctx.portal, rec.idProperty, rec.id);
    const c = found ?? contacts.create({ ...rec.values, [rec.idProperty]: rec.id }, ctx.nowIso, ctx.now);
    if (found) contacts.update(found, rec.values, ctx.nowIso);
    const result: UpsertResult = {
      id: String(c.id),
      properties: { ...c.properties },
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      archived: false,
      new: !found,
    };
    if (rec.traceId !== undefined) result.objectWriteTraceId = rec.traceId;
    return result;
  }
  const email = rec.email as string;
  let contact: Contact | undefined = contacts.byEmailAddress(email);
  let properties: Record<string, string>;
  const isNew = !contact;
  if (contact) {
    contacts.update(contact, rec.values, ctx.nowIso);
    const p = contact.properties;
    properties = rec.values;
    properties.email = p.email ?? email;
    properties.hs_object_id = p.hs_object_id;
    properties.createdate = p.createdate;
    properties.lastmodifieddate = p.lastmodifieddate;
  } else {
    rec.values.email = email;
    contact = contacts.create(rec.values, ctx.nowIso, ctx.now);
    // Serialised before anything else can change it, so the stored object can be answered directly.
    properties = contact.properties;
  }
  const result: UpsertResult = {
    id: String(contact.id),
    properties,
    createdAt: contact.createdAt,
    updatedAt: contact.updatedAt,
    archived: false,
    new: isNew,
  };
  if (rec.traceId !== undefined) result.objectWriteTraceId = rec.traceId;
  return result;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

export function batchUpsert(ctx: AuthedContext): Reply {
  const startedAt = ctx.nowIso;
  const inputs = parseInputs(ctx, asObject(ctx.body));
  rejectDuplicates(inputs);
  const behaviour = ctx.portal.behaviour;
  // "Partial upserts are not supported when using email as the idProperty" (contacts guide): in
  // all-or-nothing mode a traced batch with a bad record fails whole, like an untraced one.
  const partial = tracedBatch(inputs) && behaviour.upsertPartial === 'per-record';
  const checked = inputs.map((input) => check(ctx, input));
  const bad = checked.filter((c) => c.problems.length > 0);
  if (bad.length && !partial)
    throw propertyValidationError(
      bad.flatMap((c) => c.problems),
      ctx.portal.portalId,
    );

  const results: UpsertResult[] = [];
  const errors: Record<string, unknown>[] = [];
  for (const rec of checked) {
    if (rec.problems.length === 0) {
      const result = write(ctx, rec);
      if (!behaviour.echoTraceIds) delete result.objectWriteTraceId;
      results.push(result);
      continue;
    }
    const { message, extra } = validationParts(rec.problems, ctx.portal.portalId);
    errors.push({
      status: 'error',
      category: 'VALIDATION_ERROR',
      message,
      context: { objectWriteTraceId: [rec.traceId as string] },
      ...extra,
      links: {},
    });
  }
  const body: Record<string, unknown> = {
    status: 'COMPLETE',
    results: shuffle(results),
    startedAt,
    completedAt: new Date(ctx.state.clock()).toISOString(),
  };
  if (errors.length === 0) return { status: 200, body };
  body.numErrors = errors.length;
  body.errors = errors;
  return { status: 207, body };
}

export function batchUpsertRoute(base: string, version: ApiVersion = 'v3'): AuthedRoute {
  return {
    method: 'POST',
    pattern: `${base}/batch/upsert`,
    version,
    auth: 'token',
    emptyAnswer: (nowIso) => ({ status: 'COMPLETE', results: [], startedAt: nowIso, completedAt: nowIso }),
    scopes: [SCOPES.contactsWrite],
    writes: true,
    handler: batchUpsert,
  };
}
