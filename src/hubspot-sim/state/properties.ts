/**
 * One portal's contact property definitions and groups, with HubSpot's create/update/archive rules
 * (https://developers.hubspot.com/docs/api/crm/properties). Lookups by name are O(1); enumeration options are kept as a Set for validation.
 */
import { HsError, validationError } from '../hubspot-errors';
import type { PropertyGroupJson, PropertyJson, PropertyOption } from '../types';
import { DEFAULT_GROUPS, DEFAULT_PROPERTIES, seedOptions, type SeedProperty } from './default-properties';

export interface PropertyRecord {
  json: PropertyJson;
  optionValues: Set<string>;
}

export const PROPERTY_TYPES = ['bool', 'date', 'datetime', 'enumeration', 'number', 'phone_number', 'string'] as const;
export const FIELD_TYPES = [
  'booleancheckbox',
  'calculation_equation',
  'checkbox',
  'date',
  'file',
  'html',
  'number',
  'phonenumber',
  'radio',
  'select',
  'text',
  'textarea',
] as const;

/** Allowed fieldTypes per type (https://knowledge.hubspot.com/account/property-field-types-in-hubspot; string/number/phone_number pairs are an assumption). */
export const FIELD_TYPES_BY_TYPE: Record<string, readonly string[]> = {
  bool: ['booleancheckbox', 'calculation_equation'],
  enumeration: ['booleancheckbox', 'checkbox', 'radio', 'select', 'calculation_equation'],
  date: ['date'],
  datetime: ['date'],
  string: ['text', 'textarea', 'file', 'html', 'phonenumber', 'calculation_equation'],
  number: ['number', 'calculation_equation'],
  phone_number: ['phonenumber'],
};

export const NAME_RE = /^[a-z][a-z0-9_]*$/;
export const MAX_NAME_LENGTH = 100;
export const MAX_OPTIONS = 5000;
const TEXT_HINTS = [
  'domain_name',
  'email',
  'ip_address',
  'multi_line',
  'phone_number',
  'physical_address',
  'postal_code',
  'unformatted_single_line',
];
const NUMBER_HINTS = ['currency', 'duration', 'formatted', 'percentage', 'probability', 'unformatted'];

/** Simulated user id of whoever created custom properties. */
const SIM_USER_ID = '1000001';

function record(json: PropertyJson): PropertyRecord {
  return { json, optionValues: new Set(json.options.map((o) => o.value)) };
}

function fromSeed(seed: SeedProperty, index: number, at: string): PropertyJson {
  const json: PropertyJson = {
    name: seed.name,
    label: seed.label,
    type: seed.type,
    fieldType: seed.fieldType,
    description: '',
    groupName: seed.groupName,
    options: seedOptions(seed.options),
    displayOrder: index,
    calculated: seed.calculated ?? false,
    externalOptions: seed.externalOptions ?? false,
    hasUniqueValue: false,
    hidden: seed.hidden ?? false,
    hubspotDefined: true,
    formField: !seed.readOnly,
    modificationMetadata: { archivable: false, readOnlyDefinition: seed.readOnly ?? false, readOnlyValue: seed.readOnly ?? false },
    dataSensitivity: 'non_sensitive',
    createdAt: at,
    updatedAt: at,
    archived: false,
  };
  if (seed.referencedObjectType) json.referencedObjectType = seed.referencedObjectType;
  if (seed.textDisplayHint) json.textDisplayHint = seed.textDisplayHint;
  if (seed.numberDisplayHint) json.numberDisplayHint = seed.numberDisplayHint;
  return json;
}

export interface PropertyStoreState {
  properties: PropertyJson[];
  groups: PropertyGroupJson[];
}

export class PropertyStore {
  private readonly props = new Map<string, PropertyRecord>();
  private readonly groups = new Map<string, PropertyGroupJson>();

  constructor(state?: PropertyStoreState) {
    if (state) {
      for (const p of state.properties) this.props.set(p.name, record(p));
      for (const g of state.groups) this.groups.set(g.name, g);
      return;
    }
    const at = new Date().toISOString();
    DEFAULT_PROPERTIES.forEach((seed, i) => this.props.set(seed.name, record(fromSeed(seed, i, at))));
    for (const g of DEFAULT_GROUPS) this.groups.set(g.name, { ...g });
  }

  /** A live (non-archived) property, or undefined. */
  get(name: string): PropertyRecord | undefined {
    const p = this.props.get(name);
    return p && !p.json.archived ? p : undefined;
  }

  getJson(name: string, archived: boolean): PropertyJson {
    const p = this.props.get(name);
    if (!p || p.json.archived !== archived) {
      throw new HsError(404, 'OBJECT_NOT_FOUND', `Unable to find property ${name} for object type 0-1`, {
        context: { propertyName: [name] },
      });
    }
    return p.json;
  }

  list(archived = false): PropertyJson[] {
    const out: PropertyJson[] = [];
    for (const p of this.props.values()) if (p.json.archived === archived) out.push(p.json);
    return out;
  }

  create(input: unknown): { property: PropertyJson; restored: boolean } {
    const body = asObject(input);
    const missing = ['name', 'label', 'type', 'fieldType', 'groupName'].filter((k) => typeof body[k] !== 'string' || body[k] === '');
    if (missing.length)
      throw validationError(
        `Invalid input JSON: Cannot build PropertyCreate, some of required attributes are not set [${missing.join(', ')}]`,
      );
    const name = body.name as string;
    if (name.length > MAX_NAME_LENGTH || !NAME_RE.test(name)) {
      throw validationError(
        `Property name "${name}" is invalid. Internal names must start with a lowercase letter, contain only lowercase letters, digits and underscores, and be at most ${MAX_NAME_LENGTH} characters long.`,
        { context: { propertyName: [name] } },
      );
    }
    const existing = this.props.get(name);
    if (existing && !existing.json.archived) {
      // HubSpot's 409 as observed: message, category and subCategory (docs/hubspot-simulator.md, Properties).
      throw new HsError(409, 'OBJECT_ALREADY_EXISTS', `A property named '${name}' already exists.`, {
        subCategory: 'Properties.PROPERTY_WITH_NAME_EXISTS',
        context: { propertyName: [name] },
      });
    }
    const type = body.type as string;
    const fieldType = body.fieldType as string;
    this.checkTypePair(type, fieldType);
    this.checkGroup(body.groupName as string);
    const options = this.checkOptions(type, body.options, Boolean(body.externalOptions));
    const now = new Date().toISOString();
    const json: PropertyJson = {
      name,
      label: body.label as string,
      type,
      fieldType,
      description: typeof body.description === 'string' ? body.description : '',
      groupName: body.groupName as string,
      options,
      displayOrder: typeof body.displayOrder === 'number' ? body.displayOrder : -1,
      calculated: false,
      externalOptions: Boolean(body.externalOptions),
      hasUniqueValue: Boolean(body.hasUniqueValue),
      hidden: Boolean(body.hidden),
      formField: Boolean(body.formField),
      modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
      dataSensitivity: typeof body.dataSensitivity === 'string' ? body.dataSensitivity : 'non_sensitive',
      createdAt: existing?.json.createdAt ?? now,
      updatedAt: now,
      archived: false,
      createdUserId: SIM_USER_ID,
      updatedUserId: SIM_USER_ID,
    };
    this.applyHints(json, body);
    // Recreating an archived name restores that property, with the definition just sent.
    this.props.set(name, record(json));
    return { property: json, restored: Boolean(existing) };
  }

  update(name: string, input: unknown): PropertyJson {
    const p = this.get(name);
    if (!p)
      throw new HsError(404, 'OBJECT_NOT_FOUND', `Unable to find property ${name} for object type 0-1`, {
        context: { propertyName: [name] },
      });
    const body = asObject(input);
    if (p.json.modificationMetadata.readOnlyDefinition) {
      throw validationError(`Property ${name} has a read-only definition and cannot be modified`);
    }
    if (
      p.json.hubspotDefined &&
      (('type' in body && body.type !== p.json.type) || ('fieldType' in body && body.fieldType !== p.json.fieldType))
    ) {
      throw validationError(`The type and field type of HubSpot-defined property ${name} cannot be changed`);
    }
    const next: PropertyJson = { ...p.json };
    const type = typeof body.type === 'string' ? body.type : next.type;
    const fieldType = typeof body.fieldType === 'string' ? body.fieldType : next.fieldType;
    this.checkTypePair(type, fieldType);
    next.type = type;
    next.fieldType = fieldType;
    if (typeof body.label === 'string') next.label = body.label;
    if (typeof body.description === 'string') next.description = body.description;
    if (typeof body.groupName === 'string') {
      this.checkGroup(body.groupName);
      next.groupName = body.groupName;
    }
    if (typeof body.displayOrder === 'number') next.displayOrder = body.displayOrder;
    if (typeof body.hidden === 'boolean') next.hidden = body.hidden;
    if (typeof body.formField === 'boolean') next.formField = body.formField;
    if (body.options !== undefined || (type !== p.json.type && (type === 'enumeration' || type === 'bool'))) {
      next.options = this.checkOptions(type, body.options, next.externalOptions);
    }
    this.applyHints(next, body);
    next.updatedAt = new Date().toISOString();
    if (!next.hubspotDefined) next.updatedUserId = SIM_USER_ID;
    this.props.set(name, record(next));
    return next;
  }

  archive(name: string): void {
    const p = this.get(name);
    if (!p)
      throw new HsError(404, 'OBJECT_NOT_FOUND', `Unable to find property ${name} for object type 0-1`, {
        context: { propertyName: [name] },
      });
    if (!p.json.modificationMetadata.archivable) {
      throw validationError(`Property ${name} is a HubSpot-defined property and cannot be archived`);
    }
    const now = new Date().toISOString();
    this.props.set(name, record({ ...p.json, archived: true, archivedAt: now, updatedAt: now }));
  }

  listGroups(archived = false): PropertyGroupJson[] {
    return [...this.groups.values()].filter((g) => g.archived === archived);
  }

  getGroup(name: string): PropertyGroupJson {
    const g = this.groups.get(name);
    if (!g || g.archived) throw new HsError(404, 'OBJECT_NOT_FOUND', `Unable to find property group ${name} for object type 0-1`);
    return g;
  }

  createGroup(input: unknown): PropertyGroupJson {
    const body = asObject(input);
    const missing = ['name', 'label'].filter((k) => typeof body[k] !== 'string' || body[k] === '');
    if (missing.length)
      throw validationError(
        `Invalid input JSON: Cannot build PropertyGroupCreate, some of required attributes are not set [${missing.join(', ')}]`,
      );
    const name = body.name as string;
    if (name.length > MAX_NAME_LENGTH || !NAME_RE.test(name)) throw validationError(`Property group name "${name}" is invalid`);
    const existing = this.groups.get(name);
    if (existing && !existing.archived) throw new HsError(409, 'OBJECT_ALREADY_EXISTS', `Property group named '${name}' already exists.`);
    const g: PropertyGroupJson = {
      name,
      label: body.label as string,
      displayOrder: typeof body.displayOrder === 'number' ? body.displayOrder : -1,
      archived: false,
    };
    this.groups.set(name, g);
    return g;
  }

  toState(): PropertyStoreState {
    return { properties: [...this.props.values()].map((p) => p.json), groups: [...this.groups.values()] };
  }

  private checkTypePair(type: string, fieldType: string): void {
    if (!(PROPERTY_TYPES as readonly string[]).includes(type)) {
      throw validationError(`Invalid property type "${type}". Valid types: ${PROPERTY_TYPES.join(', ')}`);
    }
    if (!(FIELD_TYPES as readonly string[]).includes(fieldType)) {
      throw validationError(`Invalid fieldType "${fieldType}". Valid field types: ${FIELD_TYPES.join(', ')}`);
    }
    if (!FIELD_TYPES_BY_TYPE[type].includes(fieldType)) {
      throw validationError(
        `fieldType "${fieldType}" is not valid for a property of type "${type}". Valid field types: ${FIELD_TYPES_BY_TYPE[type].join(', ')}`,
      );
    }
  }

  private checkGroup(groupName: string): void {
    const g = this.groups.get(groupName);
    if (!g || g.archived) throw validationError(`Property group ${groupName} does not exist`, { context: { groupName: [groupName] } });
  }

  private checkOptions(type: string, raw: unknown, external: boolean): PropertyOption[] {
    if (type === 'bool') return boolOptions(raw);
    if (type !== 'enumeration') return [];
    if (external) return [];
    if (!Array.isArray(raw) || raw.length === 0) throw validationError('Enumeration properties must have at least one option');
    if (raw.length > MAX_OPTIONS) throw validationError(`Enumeration properties can have at most ${MAX_OPTIONS} options`);
    const seen = new Set<string>();
    return raw.map((o, i) => {
      const opt = asObject(o);
      if (typeof opt.label !== 'string' || typeof opt.value !== 'string' || opt.value === '') {
        throw validationError('Invalid input JSON: Cannot build OptionInput, some of required attributes are not set [label, value]');
      }
      if (seen.has(opt.value)) throw validationError(`Duplicate option value "${opt.value}"`);
      seen.add(opt.value);
      const out: PropertyOption = {
        label: opt.label,
        value: opt.value,
        displayOrder: typeof opt.displayOrder === 'number' ? opt.displayOrder : i,
        hidden: Boolean(opt.hidden),
      };
      if (typeof opt.description === 'string') out.description = opt.description;
      return out;
    });
  }

  private applyHints(json: PropertyJson, body: Record<string, unknown>): void {
    if (typeof body.textDisplayHint === 'string') {
      if (!TEXT_HINTS.includes(body.textDisplayHint)) throw validationError(`Invalid textDisplayHint "${body.textDisplayHint}"`);
      json.textDisplayHint = body.textDisplayHint;
    }
    if (typeof body.numberDisplayHint === 'string') {
      if (!NUMBER_HINTS.includes(body.numberDisplayHint)) throw validationError(`Invalid numberDisplayHint "${body.numberDisplayHint}"`);
      json.numberDisplayHint = body.numberDisplayHint;
    }
    if (typeof body.showCurrencySymbol === 'boolean') json.showCurrencySymbol = body.showCurrencySymbol;
  }
}

export const BOOL_OPTIONS_MESSAGE =
  "Boolean properties must have exactly two options; one with a value of 'true', the other with a value of 'false'.";

/** A bool property is created with exactly the options `true` and `false` (HubSpot answers 400 otherwise, as observed). */
function boolOptions(raw: unknown): PropertyOption[] {
  if (!Array.isArray(raw) || raw.length !== 2) throw validationError(BOOL_OPTIONS_MESSAGE);
  const opts = raw.map((o) => asObject(o));
  const values = opts.map((o) => o.value).sort();
  if (values[0] !== 'false' || values[1] !== 'true') throw validationError(BOOL_OPTIONS_MESSAGE);
  return opts.map((o, i) => ({
    label: typeof o.label === 'string' ? o.label : String(o.value),
    value: o.value as string,
    displayOrder: typeof o.displayOrder === 'number' ? o.displayOrder : i,
    hidden: Boolean(o.hidden),
  }));
}

export function asObject(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw validationError('Invalid input JSON: expected a JSON object');
  return v as Record<string, unknown>;
}
