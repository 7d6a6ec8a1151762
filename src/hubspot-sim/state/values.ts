/**
 * Validation and normalisation of one property value by the property's type (https://knowledge.hubspot.com/account/property-field-types-in-hubspot, https://developers.hubspot.com/docs/api-reference/error-handling).
 * Stored values are strings in HubSpot's canonical form: emails lowercased, bools "true"/"false",
 * dates "YYYY-MM-DD", datetimes full ISO-8601 UTC. An empty string clears the value.
 */
import type { PropertyRecord } from './properties';

export const MAX_STRING_LENGTH = 65_536;

export type ValueResult = { ok: true; value: string } | { ok: false; code: string; message: string };

const EMAIL_RE =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,63}$/;
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE_ONLY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const EPOCH_RE = /^-?\d{1,15}$/;
const DAY_MS = 86_400_000;

/** Lowercases and checks an email address; undefined when it is not valid. */
export function normaliseEmail(raw: string): string | undefined {
  const e = raw.trim().toLowerCase();
  if (e.length === 0 || e.length > 254 || e.includes('..')) return undefined;
  return EMAIL_RE.test(e) ? e : undefined;
}

const fail = (code: string, message: string): ValueResult => ({ ok: false, code, message });

export function normaliseValue(prop: PropertyRecord, raw: unknown): ValueResult {
  if (raw === null || raw === undefined) return { ok: true, value: '' };
  if (typeof raw === 'number' || typeof raw === 'boolean') raw = String(raw);
  if (typeof raw !== 'string') return fail('INVALID_PROPERTY_VALUE', `Property "${prop.json.name}" must be a string`);
  const v = raw;
  if (v.length > MAX_STRING_LENGTH) {
    return fail(
      'INVALID_STRING_LENGTH',
      `Property "${prop.json.name}" value is ${v.length} characters long; the maximum is ${MAX_STRING_LENGTH}`,
    );
  }
  if (v === '') return { ok: true, value: '' };
  const name = prop.json.name;

  if (name === 'email') {
    const e = normaliseEmail(v);
    return e ? { ok: true, value: e } : fail('INVALID_EMAIL', `Email address ${v} is invalid`);
  }
  if (name === 'hs_additional_emails') return normaliseEmailList(v);

  switch (prop.json.type) {
    case 'string':
    case 'phone_number':
      return { ok: true, value: v };
    case 'number':
      return NUMBER_RE.test(v) && Number.isFinite(Number(v))
        ? { ok: true, value: v.startsWith('+') ? v.slice(1) : v }
        : fail('INVALID_INTEGER', `${v} is not a valid number`);
    case 'bool': {
      const b = v.toLowerCase();
      return b === 'true' || b === 'false'
        ? { ok: true, value: b }
        : fail('INVALID_BOOLEAN', `${v} is not a valid boolean; use true or false`);
    }
    case 'date':
      return normaliseDate(v);
    case 'datetime':
      return normaliseDateTime(v);
    case 'enumeration':
      return normaliseEnumeration(prop, v);
    default:
      return { ok: true, value: v };
  }
}

function normaliseEmailList(v: string): ValueResult {
  const out: string[] = [];
  for (const part of v.split(';')) {
    if (part === '') continue;
    const e = normaliseEmail(part);
    if (!e) return fail('INVALID_EMAIL', `Email address ${part} is invalid`);
    if (!out.includes(e)) out.push(e);
  }
  return { ok: true, value: out.join(';') };
}

function normaliseDate(v: string): ValueResult {
  let ms: number;
  if (EPOCH_RE.test(v)) ms = Number(v);
  else if (ISO_RE.test(v)) ms = Date.parse(DATE_ONLY_RE.test(v) ? `${v}T00:00:00Z` : v);
  else return fail('INVALID_DATE', `${v} is not a valid date; use an ISO-8601 date (YYYY-MM-DD) or epoch milliseconds at midnight UTC`);
  if (!Number.isFinite(ms)) return fail('INVALID_DATE', `${v} is not a valid date`);
  if (ms % DAY_MS !== 0) return fail('INVALID_DATE', `${v} is not at midnight UTC; date properties only accept midnight UTC`);
  return { ok: true, value: new Date(ms).toISOString().slice(0, 10) };
}

function normaliseDateTime(v: string): ValueResult {
  let ms: number;
  if (EPOCH_RE.test(v)) ms = Number(v);
  else if (ISO_RE.test(v)) ms = Date.parse(DATE_ONLY_RE.test(v) ? `${v}T00:00:00Z` : hasZone(v) ? v : `${v}Z`);
  else return fail('INVALID_LONG', `${v} is not a valid datetime; use ISO-8601 or epoch milliseconds`);
  if (!Number.isFinite(ms)) return fail('INVALID_LONG', `${v} is not a valid datetime`);
  return { ok: true, value: new Date(ms).toISOString() };
}

function hasZone(v: string): boolean {
  return /(?:Z|[+-]\d{2}:?\d{2})$/.test(v);
}

function normaliseEnumeration(prop: PropertyRecord, v: string): ValueResult {
  if (prop.json.externalOptions) {
    // Owner-backed: options live outside the property; HubSpot owner ids are numeric.
    return /^\d+$/.test(v) ? { ok: true, value: v } : fail('INVALID_OPTION', `${v} was not one of the allowed options`);
  }
  const multi = prop.json.fieldType === 'checkbox';
  const parts = multi ? v.split(';').filter((p) => p !== '') : [v];
  for (const p of parts) {
    if (!prop.optionValues.has(p)) {
      return fail('INVALID_OPTION', `${p} was not one of the allowed options: [${prop.json.options.map((o) => o.value).join(', ')}]`);
    }
  }
  return { ok: true, value: multi ? parts.join(';') : v };
}
