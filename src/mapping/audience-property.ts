/**
 * The audience status property: one enumeration contact property per audience, whose value on each
 * contact is that contact's status in the audience (realized / existing / exited), as the reference
 * destination does. Its internal name is derived from the audience id only, so renaming the audience
 * changes the label, never the property; its description records the audience id so we can tell our
 * own property from a user's property that happens to have the same name.
 */
import { createHash } from 'node:crypto';
import type { HubSpotProperty, HubSpotPropertyCreate, HubSpotPropertyOption } from '../hubspot/types';
import { MEMBER_STATUSES } from '../members/types';

export const AUDIENCE_PROPERTY_GROUP = { name: 'audience_memberships', label: 'Audience memberships' } as const;

export const AUDIENCE_PROPERTY_PREFIX = 'aud_';
/** Characters of the sanitised id kept in the name, for readability; uniqueness comes from the hash. */
const MAX_READABLE_PART = 60;
const NAME_RE = /^[a-z][a-z0-9_]*$/;
const MAX_NAME_LENGTH = 100;

export const AUDIENCE_STATUS_OPTIONS: HubSpotPropertyOption[] = MEMBER_STATUSES.map((value, i) => ({
  value,
  label: value[0].toUpperCase() + value.slice(1),
  hidden: false,
  displayOrder: i,
}));

export interface AudienceRef {
  id: string;
  name: string;
}

/**
 * `aud_<sanitised id, ≤60 chars>_<first 8 hex of sha256(id)>`: a valid HubSpot internal name
 * (`^[a-z][a-z0-9_]*$`, ≤ 100 chars), stable per id, and distinct for ids that sanitise alike
 * (`Aud-1` vs `aud_1`) thanks to the hash of the exact id.
 */
export function audiencePropertyName(audienceId: string): string {
  const readable = audienceId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_READABLE_PART)
    .replace(/_+$/, '');
  const hash = createHash('sha256').update(audienceId, 'utf8').digest('hex').slice(0, 8);
  const name = `${AUDIENCE_PROPERTY_PREFIX}${readable ? `${readable}_` : ''}${hash}`;
  if (!NAME_RE.test(name) || name.length > MAX_NAME_LENGTH) throw new Error('audiencePropertyName produced an invalid name');
  return name;
}

const MARKER_RE = /\[audience-id:([^\]]*)\]/;

/** The description records the audience id (URI-encoded, so any id fits in the marker). */
export function audiencePropertyDescription(audienceId: string): string {
  return `Status of the contact in this audience (realized, existing or exited), written by hubspot-audience-destination. [audience-id:${encodeURIComponent(audienceId)}]`;
}

/** Audience id recorded in a property description by this destination, if any. */
export function audienceIdFromDescription(description: string | undefined): string | undefined {
  const m = description ? MARKER_RE.exec(description) : null;
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

/** Whether a property is an audience status property created by this destination (any audience). */
export function isAudienceProperty(property: Pick<HubSpotProperty, 'description'>): boolean {
  return audienceIdFromDescription(property.description) !== undefined;
}

export function audiencePropertyDefinition(audience: AudienceRef): HubSpotPropertyCreate {
  return {
    name: audiencePropertyName(audience.id),
    label: audienceLabel(audience),
    type: 'enumeration',
    fieldType: 'select',
    groupName: AUDIENCE_PROPERTY_GROUP.name,
    description: audiencePropertyDescription(audience.id),
    options: AUDIENCE_STATUS_OPTIONS.map((o) => ({ ...o })),
    displayOrder: -1,
    formField: false,
  };
}

/** Label = audience name; falls back to the id so the label is never empty. */
function audienceLabel(audience: AudienceRef): string {
  return audience.name.trim() || audience.id;
}

export type AudiencePropertyAction =
  | { action: 'create' }
  | { action: 'ok' }
  | { action: 'update'; patch: Partial<Pick<HubSpotPropertyCreate, 'label' | 'options'>> }
  | { action: 'conflict'; message: string };

/** Single-value enumeration field types our values fit; `radio` is how users sometimes restyle a select. */
const COMPATIBLE_FIELD_TYPES = new Set(['select', 'radio']);

/**
 * Decides what to do with the property found under the audience's name (`undefined` = none).
 * Conflicts are non-retryable configuration problems; the message says what to fix in HubSpot.
 */
export function classifyExistingAudienceProperty(existing: HubSpotProperty | undefined, audience: AudienceRef): AudiencePropertyAction {
  // An archived property is restored by re-creating it under the same name (https://knowledge.hubspot.com/account/property-field-types-in-hubspot).
  if (!existing || existing.archived) return { action: 'create' };
  const name = audiencePropertyName(audience.id);
  const owner = audienceIdFromDescription(existing.description);
  if (existing.type !== 'enumeration' || !COMPATIBLE_FIELD_TYPES.has(existing.fieldType)) {
    return {
      action: 'conflict',
      message: `Contact property '${name}' (the status property of audience '${audience.id}') already exists in HubSpot with type '${existing.type}' and field type '${existing.fieldType}', but the audience status needs a single-select enumeration (type 'enumeration', field type 'select'). Delete or rename that property in HubSpot so it can be created, then re-run the activation.`,
    };
  }
  if (owner === undefined) {
    return {
      action: 'conflict',
      message: `Contact property '${name}' already exists in HubSpot but was not created by this destination for audience '${audience.id}' (its description lacks the audience-id marker). Delete or rename that property in HubSpot, then re-run the activation.`,
    };
  }
  if (owner !== audience.id) {
    return {
      action: 'conflict',
      message: `Contact property '${name}' belongs to another audience ('${owner}'). Delete or rename it in HubSpot, then re-run the activation.`,
    };
  }
  const patch: Partial<Pick<HubSpotPropertyCreate, 'label' | 'options'>> = {};
  const label = audienceLabel(audience);
  if (existing.label !== label) patch.label = label;
  const have = new Set(existing.options.map((o) => o.value));
  const missing = AUDIENCE_STATUS_OPTIONS.filter((o) => !have.has(o.value));
  if (missing.length > 0) {
    patch.options = [...existing.options, ...missing.map((o, i) => ({ ...o, displayOrder: existing.options.length + i }))];
  }
  return Object.keys(patch).length > 0 ? { action: 'update', patch } : { action: 'ok' };
}
