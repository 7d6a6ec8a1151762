/**
 * Checks a parsed member against the destination's mapping and the account's property types, and
 * builds the HubSpot properties of its upsert: `email` (normalised), every mapped attribute coerced to
 * its target's type, and the audience status property. The first problem rejects the member; the
 * reason names the property and the rule, never the value.
 */
import type { HubSpotProperty } from '../hubspot/types';
import { MEMBER_STATUSES, type MemberStatus, type SourceRecord } from '../members/types';
import { coerceValue } from './coerce';
import { isValidEmail, normalizeEmail } from './email';
import { isParsedMember, parseRecord } from './parse-record';
import { IDENTITY_SOURCE, IDENTITY_TARGET, type Mapping, type ParsedMember, type PrepareOutcome } from './types';

export interface PrepareContext {
  mapping: Mapping;
  /** The account's contact properties by internal name. */
  properties: Map<string, HubSpotProperty>;
  audiencePropertyName: string;
  /** Several-audience runs: the status property per listed audience id (used with the member's `statuses`). */
  audienceProperties?: ReadonlyMap<string, string>;
}

function reject(member: ParsedMember, code: string, message: string, field: string | undefined, email?: string): PrepareOutcome {
  return { kind: 'rejected', line: member.line, email, reason: { code, message, field, origin: 'validation' } };
}

/** `realized` | `existing` | `exited`, case-insensitive and trimmed; absent → `realized`. */
export function normalizeStatus(raw: string | undefined): MemberStatus | undefined {
  if (raw === undefined) return 'realized';
  const s = raw.trim().toLowerCase();
  return (MEMBER_STATUSES as readonly string[]).includes(s) ? (s as MemberStatus) : undefined;
}

export function prepareContact(member: ParsedMember, ctx: PrepareContext): PrepareOutcome {
  if (member.email === undefined || member.email.trim() === '') {
    return reject(member, 'MISSING_EMAIL', 'The member has no email (identityMap.Email or the CSV email column)', IDENTITY_TARGET);
  }
  const email = normalizeEmail(member.email);
  if (!isValidEmail(email)) {
    return reject(member, 'INVALID_EMAIL', "The member's email is not a valid email address", IDENTITY_TARGET, email);
  }
  const emailProperty = ctx.properties.get(IDENTITY_TARGET);
  if (emailProperty) {
    const checked = coerceValue(email, emailProperty);
    if (!checked.ok) return reject(member, 'INVALID_EMAIL', checked.message, IDENTITY_TARGET, email);
  }
  const status = normalizeStatus(member.status);
  if (!status) {
    return reject(member, 'INVALID_STATUS', `The audience status must be one of ${MEMBER_STATUSES.join(', ')}`, 'status', email);
  }
  let statuses: Record<string, MemberStatus> | undefined;
  if (member.statuses && ctx.audienceProperties) {
    statuses = {};
    for (const [audienceId, raw] of Object.entries(member.statuses)) {
      const s = normalizeStatus(raw);
      if (!s) return reject(member, 'INVALID_STATUS', `The audience status must be one of ${MEMBER_STATUSES.join(', ')}`, 'status', email);
      statuses[audienceId] = s;
    }
  }

  const properties: Record<string, string> = {};
  for (const { source, target } of ctx.mapping.attributes) {
    // The identity mapping is implicit: email is set from the identity below.
    if (target === IDENTITY_TARGET && source === IDENTITY_SOURCE) continue;
    const property = ctx.properties.get(target);
    if (!property || property.archived) {
      return reject(member, 'PROPERTY_DOESNT_EXIST', `Property '${target}' does not exist in this HubSpot account`, target, email);
    }
    const result = coerceValue(member.values[source], property);
    if (!result.ok) return reject(member, result.code, result.message, target, email);
    if (!result.omit) properties[target] = result.value;
  }
  properties[IDENTITY_TARGET] = email;
  if (statuses && ctx.audienceProperties) {
    for (const [audienceId, s] of Object.entries(statuses)) properties[ctx.audienceProperties.get(audienceId)!] = s;
  } else properties[ctx.audiencePropertyName] = status;

  return {
    kind: 'ready',
    contact: {
      line: member.line,
      email,
      status,
      ...(statuses ? { statuses } : {}),
      properties,
      ...(member.timestamp ? { timestamp: member.timestamp } : {}),
    },
  };
}

/** Source paths a mapping reads (what `parseRecord` must extract). */
export function mappingSourcePaths(mapping: Mapping): string[] {
  return [...new Set(mapping.attributes.map((a) => a.source))];
}

/** parse + prepare for one record: the whole per-record path from source text to upsert input. */
export function prepareRecord(record: SourceRecord, ctx: PrepareContext & { audienceId: string; sourcePaths?: string[] }): PrepareOutcome {
  const ids = ctx.audienceProperties ? [...ctx.audienceProperties.keys()] : ctx.audienceId;
  const parsed = parseRecord(record, ids, ctx.sourcePaths ?? mappingSourcePaths(ctx.mapping));
  if (!isParsedMember(parsed)) return parsed;
  return prepareContact(parsed, ctx);
}
