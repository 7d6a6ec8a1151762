/**
 * `POST /crm/v3/objects/contacts/search` (https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm): filter groups (OR of ANDed filters), sorts,
 * free-text query, `limit` ≤ 200 and at most 10,000 results reachable by paging. A single EQ/IN filter on
 * email or hs_object_id uses the indexes; anything else scans (search is limited to a few calls a second).
 * Contacts created within the configured index lag are not yet visible.
 */
import { validationError } from '../hubspot-errors';
import type { Portal } from '../state/accounts';
import { contactJson, DEFAULT_READ_PROPERTIES, type Contact } from '../state/contacts';
import { asObject } from '../state/properties';
import { definedIn } from './contacts';
import type { AuthedContext, AuthedRoute, Reply } from './types';
import { SCOPES } from './types';
import type { ApiVersion } from './versions';

export const MAX_SEARCH_LIMIT = 200;
export const MAX_SEARCH_RESULTS = 10_000;
export const MAX_FILTER_GROUPS = 5;
export const MAX_FILTERS_PER_GROUP = 10;
export const MAX_FILTERS_TOTAL = 25;
export const MAX_QUERY_LENGTH = 3000;

const OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
];
const QUERY_PROPERTIES = ['email', 'firstname', 'lastname', 'phone', 'company', 'website'];

interface Filter {
  propertyName: string;
  operator: string;
  value?: string;
  values?: string[];
  highValue?: string;
  kind: 'number' | 'time' | 'string';
}

interface Sort {
  propertyName: string;
  descending: boolean;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return String(v);
}

function parseFilters(portal: Portal, raw: unknown): Filter[][] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw validationError('filterGroups must be an array');
  if (raw.length > MAX_FILTER_GROUPS) throw validationError(`Too many filter groups: ${raw.length}. The maximum is ${MAX_FILTER_GROUPS}`);
  let total = 0;
  return raw.map((g) => {
    const filters = asObject(g).filters;
    if (!Array.isArray(filters)) throw validationError('Each filter group needs a filters array');
    if (filters.length > MAX_FILTERS_PER_GROUP)
      throw validationError(`Too many filters in a group: ${filters.length}. The maximum is ${MAX_FILTERS_PER_GROUP}`);
    total += filters.length;
    if (total > MAX_FILTERS_TOTAL) throw validationError(`Too many filters: the maximum is ${MAX_FILTERS_TOTAL} across all groups`);
    return filters.map((f) => {
      const o = asObject(f);
      const propertyName = str(o.propertyName);
      const operator = str(o.operator) ?? 'EQ';
      if (!propertyName) throw validationError('Each filter needs a propertyName');
      if (!OPERATORS.includes(operator))
        throw validationError(`Unknown filter operator ${operator}. Valid operators: ${OPERATORS.join(', ')}`);
      const type = portal.properties.get(propertyName)?.json.type;
      const kind = type === 'number' ? 'number' : type === 'date' || type === 'datetime' ? 'time' : 'string';
      return {
        propertyName,
        operator,
        kind,
        value: str(o.value),
        highValue: str(o.highValue),
        values: Array.isArray(o.values) ? o.values.map(String) : undefined,
      };
    });
  });
}

function asComparable(kind: Filter['kind'], v: string): number | string {
  if (kind === 'number') return Number(v);
  if (kind === 'time') return /^-?\d+$/.test(v) ? Number(v) : Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
  return v.toLowerCase();
}

function tokenMatch(stored: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .toLowerCase()
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  if (re.test(stored.toLowerCase())) return true;
  return stored
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((t) => t !== '' && re.test(t));
}

function matches(c: Contact, f: Filter): boolean {
  const stored = c.properties[f.propertyName];
  const has = stored !== undefined && stored !== '';
  switch (f.operator) {
    case 'HAS_PROPERTY':
      return has;
    case 'NOT_HAS_PROPERTY':
      return !has;
    case 'EQ':
      return has && f.value !== undefined && asComparable(f.kind, stored) === asComparable(f.kind, f.value);
    case 'NEQ':
      return !(has && f.value !== undefined && asComparable(f.kind, stored) === asComparable(f.kind, f.value));
    case 'IN':
      return has && inValues(stored, f);
    case 'NOT_IN':
      return !(has && inValues(stored, f));
    case 'CONTAINS_TOKEN':
      return has && f.value !== undefined && tokenMatch(stored, f.value);
    case 'NOT_CONTAINS_TOKEN':
      return !(has && f.value !== undefined && tokenMatch(stored, f.value));
    default: {
      if (!has || f.value === undefined) return false;
      const s = asComparable(f.kind, stored);
      const v = asComparable(f.kind, f.value);
      switch (f.operator) {
        case 'LT':
          return s < v;
        case 'LTE':
          return s <= v;
        case 'GT':
          return s > v;
        case 'GTE':
          return s >= v;
        case 'BETWEEN':
          return f.highValue !== undefined && s >= v && s <= asComparable(f.kind, f.highValue);
        default:
          return false;
      }
    }
  }
}

function inValues(stored: string, f: Filter): boolean {
  const wanted = new Set((f.values ?? []).map((v) => asComparable(f.kind, v)));
  // Multi-select values are `;`-separated: any selected option counts.
  return stored.split(';').some((part) => wanted.has(asComparable(f.kind, part)));
}

function queryMatch(c: Contact, terms: string[]): boolean {
  return terms.every((term) =>
    QUERY_PROPERTIES.some((p) => {
      const v = c.properties[p];
      return (
        v !== undefined &&
        v
          .toLowerCase()
          .split(/[\s@.,;:_-]+/)
          .some((t) => t.startsWith(term))
      );
    }),
  );
}

/** Candidates from an index when the only group pins email or hs_object_id exactly. */
function candidates(portal: Portal, groups: Filter[][]): readonly Contact[] {
  if (groups.length === 1) {
    for (const f of groups[0]) {
      const keys = f.operator === 'EQ' && f.value !== undefined ? [f.value] : f.operator === 'IN' ? (f.values ?? []) : undefined;
      if (!keys) continue;
      if (f.propertyName === 'email') {
        return keys.map((k) => portal.contacts.byPrimaryEmail(k.trim().toLowerCase())).filter((c): c is Contact => c !== undefined);
      }
      if (f.propertyName === 'hs_object_id') {
        return keys.map((k) => portal.contacts.get(Number(k))).filter((c): c is Contact => c !== undefined);
      }
    }
  }
  return portal.contacts.all();
}

function parseSorts(raw: unknown): Sort[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((s) => {
    if (typeof s === 'string') return { propertyName: s.replace(/^-/, ''), descending: s.startsWith('-') };
    const o = asObject(s);
    return { propertyName: String(o.propertyName), descending: o.direction === 'DESCENDING' };
  });
}

export function search(ctx: AuthedContext): Reply {
  const body = ctx.body === undefined ? {} : asObject(ctx.body);
  const limit = body.limit === undefined ? 10 : Number(body.limit);
  if (!Number.isInteger(limit) || limit < 0) throw validationError(`limit must be a non-negative integer, got ${String(body.limit)}`);
  if (limit > MAX_SEARCH_LIMIT) throw validationError(`limit must be at most ${MAX_SEARCH_LIMIT}, got ${limit}`);
  const after = body.after === undefined || body.after === null || body.after === '' ? 0 : Number(body.after);
  if (!Number.isInteger(after) || after < 0) throw validationError(`Invalid after: ${String(body.after)}`);
  if (after + limit > MAX_SEARCH_RESULTS) {
    throw validationError(
      `The maximum number of results that can be paged through is ${MAX_SEARCH_RESULTS}; after + limit was ${after + limit}`,
    );
  }
  const query = typeof body.query === 'string' ? body.query : '';
  if (query.length > MAX_QUERY_LENGTH) throw validationError(`query must be at most ${MAX_QUERY_LENGTH} characters`);
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  const groups = parseFilters(ctx.portal, body.filterGroups);
  const sorts = parseSorts(body.sorts);
  const names = Array.isArray(body.properties) && body.properties.length > 0 ? body.properties.map(String) : DEFAULT_READ_PROPERTIES;
  const visibleBefore = ctx.now - ctx.state.faults.searchIndexLagMs;

  const found: Contact[] = [];
  for (const c of candidates(ctx.portal, groups)) {
    if (c.archived || c.createdMs > visibleBefore) continue;
    if (groups.length && !groups.some((g) => g.every((f) => matches(c, f)))) continue;
    if (terms.length && !queryMatch(c, terms)) continue;
    found.push(c);
  }
  if (sorts.length) {
    const s = sorts[0];
    const kind = ctx.portal.properties.get(s.propertyName)?.json.type;
    const k: Filter['kind'] = kind === 'number' ? 'number' : kind === 'date' || kind === 'datetime' ? 'time' : 'string';
    found.sort((a, b) => {
      const av = a.properties[s.propertyName];
      const bv = b.properties[s.propertyName];
      if (av === bv) return a.id - b.id;
      if (av === undefined) return 1;
      if (bv === undefined) return -1;
      const x = asComparable(k, av);
      const y = asComparable(k, bv);
      const r = x < y ? -1 : x > y ? 1 : a.id - b.id;
      return s.descending ? -r : r;
    });
  }
  const page = found.slice(after, after + limit);
  const out: Record<string, unknown> = { total: found.length, results: page.map((c) => contactJson(c, names, definedIn(ctx.portal))) };
  const next = after + limit;
  if (next < found.length && next < MAX_SEARCH_RESULTS) out.paging = { next: { after: String(next) } };
  return { status: 200, body: out };
}

export function searchRoute(base: string, version: ApiVersion = 'v3'): AuthedRoute {
  return {
    method: 'POST',
    pattern: `${base}/search`,
    version,
    auth: 'token',
    scopes: [SCOPES.contactsRead],
    search: true,
    // "The search endpoints do not return the standard rate limit headers" (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines).
    noRateLimitHeaders: true,
    // The 2026-03 and 2026-09 specs mark search `x-hubspot-rate-limit-exemptions: ["ten-secondly"]`
    // (PublicApiSpecs/CRM/Contacts/Rollouts/424/{2026-03,2026-09}/contacts.json); not checked for v3 and 2025-09.
    tenSecondlyExempt: version === '2026-03' || version === '2026-09',
    emptyAnswer: () => ({ total: 0, results: [] }),
    handler: search,
  };
}
