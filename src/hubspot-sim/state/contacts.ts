/**
 * One portal's contacts, indexed by id and by lowercased email (primary and `hs_additional_emails`
 * aliases) so every hot-path lookup is O(1). Ids grow monotonically, so `order` stays sorted by id and
 * paging is a binary search.
 */
import type { ContactJson } from '../types';

export interface Contact {
  id: number;
  /** Stored values, all strings; includes email, hs_object_id, createdate, lastmodifieddate. */
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  createdMs: number;
  archived: boolean;
  archivedAt?: string;
}

export interface ContactStoreState {
  nextId: number;
  contacts: Omit<Contact, 'createdMs'>[];
}

/** HubSpot's properties on every record, maintained by the store. */
export const SYSTEM_PROPERTIES = ['hs_object_id', 'createdate', 'lastmodifieddate'] as const;

export class ContactStore {
  private readonly byId = new Map<number, Contact>();
  private readonly byEmail = new Map<string, Contact>();
  private readonly byAdditional = new Map<string, Contact>();
  private readonly order: Contact[] = [];
  private live = 0;
  private nextId: number;

  constructor(state?: ContactStoreState, firstId = 1001) {
    this.nextId = state?.nextId ?? firstId;
    for (const c of state?.contacts ?? []) {
      const contact: Contact = { ...c, createdMs: Date.parse(c.createdAt) };
      this.byId.set(contact.id, contact);
      this.order.push(contact);
      if (!contact.archived) {
        this.live++;
        this.index(contact);
      }
    }
    this.order.sort((a, b) => a.id - b.id);
  }

  get count(): number {
    return this.live;
  }

  get(id: number): Contact | undefined {
    const c = this.byId.get(id);
    return c && !c.archived ? c : undefined;
  }

  getIncludingArchived(id: number): Contact | undefined {
    return this.byId.get(id);
  }

  /** The live contact whose primary email, or failing that one of whose additional emails, is `email`. */
  byEmailAddress(email: string): Contact | undefined {
    return this.byEmail.get(email) ?? this.byAdditional.get(email);
  }

  /** The contact whose primary email is `email` (no aliases). */
  byPrimaryEmail(email: string): Contact | undefined {
    return this.byEmail.get(email);
  }

  create(values: Record<string, string>, nowIso: string, nowMs: number): Contact {
    const id = this.nextId++;
    const properties: Record<string, string> = {};
    for (const k in values) if (values[k] !== '') properties[k] = values[k];
    properties.hs_object_id = String(id);
    properties.createdate = nowIso;
    properties.lastmodifieddate = nowIso;
    const contact: Contact = { id, properties, createdAt: nowIso, updatedAt: nowIso, createdMs: nowMs, archived: false };
    this.byId.set(id, contact);
    this.order.push(contact);
    this.live++;
    this.index(contact);
    return contact;
  }

  /** Writes normalised values; '' clears. Keeps the email indexes in step. */
  update(contact: Contact, values: Record<string, string>, nowIso: string): void {
    const emailChanged = 'email' in values && values.email !== contact.properties.email;
    const additionalChanged = 'hs_additional_emails' in values && values.hs_additional_emails !== contact.properties.hs_additional_emails;
    if (emailChanged || additionalChanged) this.unindex(contact);
    for (const k in values) {
      if (values[k] === '') delete contact.properties[k];
      else contact.properties[k] = values[k];
    }
    contact.properties.lastmodifieddate = nowIso;
    contact.updatedAt = nowIso;
    if (emailChanged || additionalChanged) this.index(contact);
  }

  archive(contact: Contact, nowIso: string): void {
    if (contact.archived) return;
    this.unindex(contact);
    contact.archived = true;
    contact.archivedAt = nowIso;
    contact.updatedAt = nowIso;
    this.live--;
  }

  /**
   * HubSpot's contact merge: `primary` keeps its id; `secondary` disappears (its id stops answering, it is
   * not archived). The primary gains the secondary's id (and the ids merged into it) in
   * `hs_merged_object_ids`, its emails in `hs_additional_emails`, and the values it lacks itself.
   */
  merge(primary: Contact, secondary: Contact, nowIso: string): void {
    const split = (v: string | undefined) => (v ? v.split(';').filter(Boolean) : []);
    const mergedIds = [
      ...new Set([
        ...split(primary.properties.hs_merged_object_ids),
        String(secondary.id),
        ...split(secondary.properties.hs_merged_object_ids),
      ]),
    ];
    const emails = [
      ...split(primary.properties.hs_additional_emails),
      ...(secondary.properties.email ? [secondary.properties.email] : []),
      ...split(secondary.properties.hs_additional_emails),
    ];
    const fill: Record<string, string> = {};
    for (const [k, v] of Object.entries(secondary.properties))
      if (!(k in primary.properties) && !SYSTEM_PROPERTIES.includes(k as (typeof SYSTEM_PROPERTIES)[number])) fill[k] = v;
    const primaryEmail = primary.properties.email ?? fill.email;
    const additional = [...new Set(emails)].filter((e) => e !== primaryEmail);
    // Free the secondary's addresses first, so the primary can index them as its own aliases.
    this.unindex(secondary);
    this.byId.delete(secondary.id);
    const at = this.order.indexOf(secondary);
    if (at >= 0) this.order.splice(at, 1);
    if (!secondary.archived) this.live--;
    this.update(
      primary,
      { ...fill, hs_merged_object_ids: mergedIds.join(';'), ...(additional.length ? { hs_additional_emails: additional.join(';') } : {}) },
      nowIso,
    );
  }

  /** Contacts with id >= `fromId`, in id order, up to `limit`; `next` is the id to continue from. */
  page(fromId: number, limit: number, archived: boolean): { contacts: Contact[]; next?: number } {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid].id < fromId) lo = mid + 1;
      else hi = mid;
    }
    const contacts: Contact[] = [];
    for (let i = lo; i < this.order.length; i++) {
      const c = this.order[i];
      if (c.archived !== archived) continue;
      if (contacts.length === limit) return { contacts, next: c.id };
      contacts.push(c);
    }
    return { contacts };
  }

  /** Every contact in id order (search scans and snapshots only). */
  all(): readonly Contact[] {
    return this.order;
  }

  toState(): ContactStoreState {
    return {
      nextId: this.nextId,
      contacts: this.order.map(({ createdMs: _ignored, ...c }) => c),
    };
  }

  private index(c: Contact): void {
    const email = c.properties.email;
    if (email) this.byEmail.set(email, c);
    const extra = c.properties.hs_additional_emails;
    if (extra) for (const e of extra.split(';')) if (e) this.byAdditional.set(e, c);
  }

  private unindex(c: Contact): void {
    const email = c.properties.email;
    if (email && this.byEmail.get(email) === c) this.byEmail.delete(email);
    const extra = c.properties.hs_additional_emails;
    if (extra) for (const e of extra.split(';')) if (e && this.byAdditional.get(e) === c) this.byAdditional.delete(e);
  }
}

/**
 * A contact as HubSpot's SimplePublicObject, limited to `names` (plus the system properties). A named
 * property that is defined but unset is `null`; one that `isDefined` rejects is left out ("If any of the
 * specified properties are not present on the requested object(s), they will be ignored",
 * PublicApiSpecs/CRM/Contacts/Rollouts/424/2026-09/contacts.json, `properties` parameter).
 */
export function contactJson(c: Contact, names?: readonly string[], isDefined?: (name: string) => boolean): ContactJson {
  let properties: Record<string, string | null>;
  if (!names) {
    properties = { ...c.properties };
  } else {
    // Names come from the query string: read own values only, and never touch `__proto__`.
    properties = Object.create(null) as Record<string, string | null>;
    for (const n of names) {
      if (Object.hasOwn(c.properties, n)) properties[n] = c.properties[n];
      else if (!isDefined || isDefined(n)) properties[n] = null;
    }
    for (const n of SYSTEM_PROPERTIES) properties[n] = c.properties[n] ?? null;
  }
  const out: ContactJson = { id: String(c.id), properties, createdAt: c.createdAt, updatedAt: c.updatedAt, archived: c.archived };
  if (c.archivedAt) out.archivedAt = c.archivedAt;
  return out;
}

/** Properties HubSpot returns when a read names none (https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm). */
export const DEFAULT_READ_PROPERTIES = ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'];
