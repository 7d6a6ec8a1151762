/** Validates a `properties` map from a write against the portal's property definitions. */
import type { PropertyProblem } from '../hubspot-errors';
import { validationError } from '../hubspot-errors';
import type { PropertyStore } from './properties';
import { normaliseValue } from './values';

export interface ValidatedProperties {
  values: Record<string, string>;
  problems: PropertyProblem[];
}

export function validateProperties(store: PropertyStore, raw: unknown): ValidatedProperties {
  const values: Record<string, string> = {};
  const problems: PropertyProblem[] = [];
  if (raw === undefined || raw === null) return { values, problems };
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw validationError('Invalid input JSON: properties must be an object of property name to value');
  const props = raw as Record<string, unknown>;
  for (const name in props) {
    const def = store.get(name);
    if (!def) {
      problems.push({ name, code: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
      continue;
    }
    if (def.json.modificationMetadata.readOnlyValue) {
      problems.push({ name, code: 'READ_ONLY_VALUE', message: `Property "${name}" is a read only property; its value cannot be set.` });
      continue;
    }
    const r = normaliseValue(def, props[name]);
    if (r.ok) values[name] = r.value;
    else problems.push({ name, code: r.code, message: r.message });
  }
  return { values, problems };
}
