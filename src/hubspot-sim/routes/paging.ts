/** Opaque `after` cursors (base64 of the next record id, like HubSpot's `NTI1Cg%3D%3D`) and list paging. */
import { validationError } from '../hubspot-errors';
import { contactJson, type ContactStore } from '../state/contacts';
import type { ContactPage } from '../types';

export const MAX_LIST_LIMIT = 100;

export function encodeCursor(id: number): string {
  return Buffer.from(String(id)).toString('base64');
}

export function decodeCursor(after: string | null | undefined): number {
  if (after === null || after === undefined || after === '') return 0;
  if (/^\d+$/.test(after)) return Number(after);
  const decoded = Buffer.from(after, 'base64').toString('utf8').trim();
  if (!/^\d+$/.test(decoded)) throw validationError(`Invalid paging cursor "after": ${after}`);
  return Number(decoded);
}

export function parseLimit(raw: string | null, fallback: number, max: number): number {
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw validationError(`limit must be a positive integer, got ${raw}`);
  if (n > max) throw validationError(`limit must be at most ${max}, got ${n}`);
  return n;
}

/** One page of contacts in HubSpot's list shape; `link` repeats the query with the next cursor. */
export function listPage(
  contacts: ContactStore,
  opts: {
    limit: number;
    after?: string | null;
    archived: boolean;
    properties?: readonly string[];
    isDefined?: (name: string) => boolean;
    linkBase: string;
    extraQuery?: Record<string, string>;
  },
): ContactPage {
  const page = contacts.page(decodeCursor(opts.after), opts.limit, opts.archived);
  const out: ContactPage = { results: page.contacts.map((c) => contactJson(c, opts.properties, opts.isDefined)) };
  if (page.next !== undefined) {
    const after = encodeCursor(page.next);
    const q = new URLSearchParams({ ...(opts.extraQuery ?? {}), limit: String(opts.limit), after });
    out.paging = { next: { after, link: `${opts.linkBase}?${q.toString()}` } };
  }
  return out;
}
