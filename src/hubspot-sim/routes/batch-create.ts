/**
 * `POST …/contacts/batch/create` (v3 and dated paths): ≤ 100 inputs `{properties, associations?,
 * objectWriteTraceId?}`. HubSpot documents multi-status (207, per-record errors) for batch create when
 * every input carries an `objectWriteTraceId` (https://developers.hubspot.com/docs/api-reference/error-handling,
 * "Multi-status errors"); without it one bad record fails the batch: a bad value → 400 "Property values
 * were not valid", an email another contact holds → 409 CONFLICT naming only the first one
 * (`HubSpot/hubspot-api-python#51`). An account whose `upsertPartial` is `all-or-nothing` never answers 207
 * here either. Success is 201. See docs/hubspot-simulator.md.
 */
import { HsError, propertyValidationError, validationError, validationParts, type PropertyProblem } from '../hubspot-errors';
import { contactJson, type Contact } from '../state/contacts';
import { asObject } from '../state/properties';
import { validateProperties } from '../state/validate';
import { writeRuleProblems } from '../state/write-rules';
import { MAX_BATCH_INPUTS } from './contacts';
import { conflictingUnique } from '../state/unique-values';
import type { AuthedContext, AuthedRoute, Reply } from './types';
import { SCOPES } from './types';
import { enforcesWriteRules, type ApiVersion } from './versions';

interface Checked {
  values: Record<string, string>;
  problems: PropertyProblem[];
  /** The contact already holding one of the record's unique values (email or a unique custom property). */
  conflict?: Contact;
  traceId?: string;
}

function parseInputs(body: Record<string, unknown>): Record<string, unknown>[] {
  const inputs = body.inputs;
  if (!Array.isArray(inputs))
    throw validationError(
      'Invalid input JSON: Cannot build BatchInputSimplePublicObjectInputForCreate, some of required attributes are not set [inputs]',
    );
  if (inputs.length > MAX_BATCH_INPUTS)
    throw validationError(
      `Too many inputs: ${inputs.length}. The maximum number of inputs supported in a batch request is ${MAX_BATCH_INPUTS}`,
    );
  return inputs.map((raw) => {
    const input = asObject(raw);
    if (input.properties === undefined || input.properties === null || typeof input.properties !== 'object')
      throw validationError(
        'Invalid input JSON: Cannot build SimplePublicObjectInputForCreate, some of required attributes are not set [properties]',
      );
    return input;
  });
}

function traced(inputs: Record<string, unknown>[]): boolean {
  const ids = new Set<string>();
  for (const i of inputs) {
    const t = i.objectWriteTraceId;
    if (typeof t !== 'string' || t === '' || ids.has(t)) return false;
    ids.add(t);
  }
  return inputs.length > 0;
}

const conflictMessage = (c: Contact): string => `Contact already exists. Existing ID: ${c.id}`;

export function batchCreate(ctx: AuthedContext): Reply {
  const startedAt = ctx.nowIso;
  const inputs = parseInputs(asObject(ctx.body));
  const partial = traced(inputs) && ctx.portal.behaviour.upsertPartial === 'per-record';
  const checked: Checked[] = inputs.map((input) => {
    const { values, problems } = validateProperties(ctx.portal.properties, input.properties);
    if (enforcesWriteRules(ctx.version)) problems.push(...writeRuleProblems(ctx.portal.behaviour.writeRules, undefined, values));
    const traceId = typeof input.objectWriteTraceId === 'string' ? input.objectWriteTraceId : undefined;
    return { values, problems, traceId, conflict: problems.length ? undefined : conflictingUnique(ctx.portal, values) };
  });
  if (!partial) {
    const bad = checked.filter((c) => c.problems.length);
    if (bad.length)
      throw propertyValidationError(
        bad.flatMap((c) => c.problems),
        ctx.portal.portalId,
      );
    const first = checked.find((c) => c.conflict);
    if (first) throw new HsError(409, 'CONFLICT', conflictMessage(first.conflict!));
  }
  const results: unknown[] = [];
  const errors: Record<string, unknown>[] = [];
  for (const rec of checked) {
    // Two inputs of one batch with the same unique value: the second finds the first.
    const conflict = rec.problems.length ? undefined : (rec.conflict ?? conflictingUnique(ctx.portal, rec.values));
    if (rec.problems.length === 0 && !conflict) {
      const c = ctx.portal.contacts.create(rec.values, ctx.nowIso, ctx.now);
      results.push({ ...contactJson(c), ...(rec.traceId !== undefined ? { objectWriteTraceId: rec.traceId } : {}) });
      continue;
    }
    if (!partial) throw new HsError(409, 'CONFLICT', conflictMessage(conflict!));
    const { message, extra } = conflict
      ? { message: conflictMessage(conflict), extra: {} }
      : validationParts(rec.problems, ctx.portal.portalId);
    errors.push({
      status: 'error',
      category: conflict ? 'CONFLICT' : 'VALIDATION_ERROR',
      message,
      context: { objectWriteTraceId: [rec.traceId as string] },
      ...extra,
      links: {},
    });
  }
  const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date(ctx.state.clock()).toISOString() };
  if (errors.length === 0) return { status: 201, body };
  body.numErrors = errors.length;
  body.errors = errors;
  return { status: 207, body };
}

export function batchCreateRoute(base: string, version: ApiVersion = 'v3'): AuthedRoute {
  return {
    method: 'POST',
    pattern: `${base}/batch/create`,
    version,
    auth: 'token',
    scopes: [SCOPES.contactsWrite],
    writes: true,
    handler: batchCreate,
  };
}
