/**
 * Unique contact properties: `email` (primary and additional addresses, indexed) and custom properties
 * created with `hasUniqueValue: true`, which HubSpot keeps unique per portal and accepts as `idProperty`
 * (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide, "unique identifier
 * property"). Custom unique values are found by a scan: only runs matching by one use them, the
 * email hot path stays a Map lookup.
 */
import type { Portal } from './accounts';
import type { Contact } from './contacts';
import { normaliseEmail } from './values';

/** Whether `name` may key a read, update or upsert (`idProperty`). */
export function isUniqueProperty(portal: Portal, name: string): boolean {
  if (name === 'email') return true;
  const p = portal.properties.get(name);
  return Boolean(p?.json.hasUniqueValue);
}

/** The live contact whose unique property `name` holds `value`. */
export function findByUnique(portal: Portal, name: string, value: string): Contact | undefined {
  if (name === 'email') {
    const e = normaliseEmail(value);
    return e ? portal.contacts.byEmailAddress(e) : undefined;
  }
  for (const c of portal.contacts.all()) if (!c.archived && c.properties[name] === value) return c;
  return undefined;
}

/** Another live contact than `self` already holding one of the unique values in `values`. */
export function conflictingUnique(portal: Portal, values: Record<string, string>, self?: Contact): Contact | undefined {
  for (const [name, value] of Object.entries(values)) {
    if (value === '' || !isUniqueProperty(portal, name)) continue;
    const owner = findByUnique(portal, name, value);
    if (owner && owner !== self) return owner;
  }
  return undefined;
}
