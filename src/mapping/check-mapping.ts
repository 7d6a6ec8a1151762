/**
 * Checks a destination's mapping against the account's contact properties before anything is sent:
 * problems here are configuration errors (fail once, non-retryably, with a message that says what to
 * fix), not per-record rejections.
 */
import type { HubSpotProperty } from '../hubspot/types';
import { isAudienceProperty } from './audience-property';
import { IDENTITY_SOURCE, IDENTITY_TARGET, type Mapping } from './types';

export type MappingIssueCode =
  | 'INVALID_SOURCE'
  | 'UNKNOWN_TARGET'
  | 'READ_ONLY_TARGET'
  | 'DUPLICATE_TARGET'
  | 'EMAIL_IS_IDENTITY'
  | 'AUDIENCE_PROPERTY_TARGET'
  | 'MATCH_KEY_NOT_UNIQUE'
  | 'MATCH_KEY_UNMAPPED';

export interface MappingIssue {
  code: MappingIssueCode;
  message: string;
  /** The target property (or, for `INVALID_SOURCE`, the source path) concerned. */
  field: string;
}

/** Dotted path of non-empty segments without whitespace (XDM field names include `_tenant` and digits). */
const SOURCE_RE = /^[^.\s]+(?:\.[^.\s]+)*$/;

const PROPERTIES_HINT = 'pick one of GET /v1/destinations/:id/properties';

export function checkMapping(
  mapping: Mapping,
  properties: HubSpotProperty[],
  options: { audiencePropertyNames?: string[] } = {},
): MappingIssue[] {
  const issues: MappingIssue[] = [];
  const byName = new Map<string, HubSpotProperty>();
  for (const p of properties) if (!p.archived) byName.set(p.name, p);
  const audienceNames = new Set(options.audiencePropertyNames ?? []);
  const seenTargets = new Set<string>();

  mapping.attributes.forEach(({ source, target }, i) => {
    const where = `Mapping attribute ${i + 1}`;
    if (typeof source !== 'string' || !SOURCE_RE.test(source)) {
      issues.push({
        code: 'INVALID_SOURCE',
        field: String(source ?? ''),
        message: `${where}: the source must be a dotted attribute path such as 'person.name.firstName' (non-empty segments, no spaces)`,
      });
    }
    if (seenTargets.has(target)) {
      issues.push({
        code: 'DUPLICATE_TARGET',
        field: target,
        message: `${where}: property '${target}' is the target of more than one attribute; map each property once`,
      });
      return;
    }
    seenTargets.add(target);
    if (target === IDENTITY_TARGET) {
      if (source !== IDENTITY_SOURCE) {
        issues.push({
          code: 'EMAIL_IS_IDENTITY',
          field: target,
          message: `${where}: 'email' is the identity and always comes from ${IDENTITY_SOURCE} (the CSV 'email' column); remove this attribute or map '${source}' to another property`,
        });
      }
      return;
    }
    const property = byName.get(target);
    if (audienceNames.has(target) || (property && isAudienceProperty(property))) {
      issues.push({
        code: 'AUDIENCE_PROPERTY_TARGET',
        field: target,
        message: `${where}: property '${target}' holds an audience status written by this destination; map '${source}' to another property`,
      });
      return;
    }
    if (!property) {
      issues.push({
        code: 'UNKNOWN_TARGET',
        field: target,
        message: `${where}: property '${target}' does not exist in this HubSpot account; create it in HubSpot or ${PROPERTIES_HINT}`,
      });
      return;
    }
    if (property.modificationMetadata?.readOnlyValue || property.calculated) {
      issues.push({
        code: 'READ_ONLY_TARGET',
        field: target,
        message: `${where}: property '${target}' is read-only in HubSpot (${property.calculated ? 'calculated' : 'its value cannot be set through the API'}); ${PROPERTIES_HINT} that is writable`,
      });
    }
  });
  issues.push(...matchKeyIssues(mapping, byName));
  return issues;
}

/**
 * A match key other than email must be a live property HubSpot keeps unique (`hasUniqueValue`, set when it
 * is created: "Require unique values") and the target of an attribute, which gives each member its value.
 */
function matchKeyIssues(mapping: Mapping, byName: Map<string, HubSpotProperty>): MappingIssue[] {
  const key = mapping.matchKey;
  if (key === undefined || key === IDENTITY_TARGET) return [];
  const property = byName.get(key);
  if (!property)
    return [
      {
        code: 'UNKNOWN_TARGET',
        field: key,
        message: `matchKey: property '${key}' does not exist in this HubSpot account; ${PROPERTIES_HINT}`,
      },
    ];
  const issues: MappingIssue[] = [];
  if (!property.hasUniqueValue)
    issues.push({
      code: 'MATCH_KEY_NOT_UNIQUE',
      field: key,
      message: `matchKey: property '${key}' is not unique in HubSpot (hasUniqueValue is false), so HubSpot cannot find a contact by it; match by 'email' or by a property created with unique values required`,
    });
  if (!mapping.attributes.some((a) => a.target === key))
    issues.push({
      code: 'MATCH_KEY_UNMAPPED',
      field: key,
      message: `matchKey: no attribute maps to '${key}'; add {source: <profile path>, target: '${key}'} so each member has its value`,
    });
  return issues;
}
