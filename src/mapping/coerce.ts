/**
 * Coerces one source value to the string HubSpot expects for a property, per its type
 * (https://knowledge.hubspot.com/account/property-field-types-in-hubspot: multi-value enumerations joined with `;`, `date` = UTC midnight, `datetime` = ISO
 * 8601 UTC, booleans `"true"`/`"false"`, text ≤ 65,536 characters).
 *
 * Blank values (null, undefined, '' or whitespace only) are omitted: a missing attribute never clears
 * a value already in HubSpot. Messages name the property and the rule, never the value.
 */
import type { HubSpotProperty } from '../hubspot/types';

export const MAX_STRING_LENGTH = 65_536;

export type CoerceErrorCode =
  'VALUE_TOO_LONG' | 'INVALID_STRING' | 'INVALID_NUMBER' | 'INVALID_BOOL' | 'INVALID_DATE' | 'INVALID_DATETIME' | 'INVALID_OPTION';

export type CoerceResult =
  | { ok: true; value: string; omit?: undefined }
  | { ok: true; omit: true; value?: undefined }
  | { ok: false; code: CoerceErrorCode; message: string };

const OMIT: CoerceResult = { ok: true, omit: true };

function fail(code: CoerceErrorCode, property: HubSpotProperty, rule: string): CoerceResult {
  return { ok: false, code, message: `Property '${property.name}' (${property.type}) ${rule}` };
}

function isBlank(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
}

export function coerceValue(value: unknown, property: HubSpotProperty): CoerceResult {
  if (isBlank(value)) return OMIT;
  switch (property.type) {
    case 'number':
      return coerceNumber(value, property);
    case 'bool':
      return coerceBool(value, property);
    case 'date':
      return coerceDate(value, property);
    case 'datetime':
      return coerceDatetime(value, property);
    case 'enumeration':
      return coerceEnumeration(value, property);
    case 'string':
    case 'phone_number':
    default:
      return coerceString(value, property);
  }
}

// ---- string ------------------------------------------------------------------------------------

function scalarToString(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? canonicalNumber(String(value)) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    default:
      return undefined;
  }
}

/** Length in Unicode code points; only counted when UTF-16 length could exceed the limit. */
function tooLong(s: string): boolean {
  if (s.length <= MAX_STRING_LENGTH) return false;
  let n = 0;
  for (const _ of s) if (++n > MAX_STRING_LENGTH) return true;
  return false;
}

function coerceString(value: unknown, property: HubSpotProperty): CoerceResult {
  const s = scalarToString(value);
  if (s === undefined) return fail('INVALID_STRING', property, 'expects a text value, not an object, array or non-finite number');
  if (tooLong(s)) return fail('VALUE_TOO_LONG', property, `accepts at most ${MAX_STRING_LENGTH} characters`);
  return { ok: true, value: s };
}

// ---- number ------------------------------------------------------------------------------------

const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const MAX_EXPONENT = 1000;

/**
 * Canonical decimal text of a numeric string: no exponent, no leading '+', no leading zeros, no
 * trailing fractional zeros, '-0' → '0'. Works on the text so long digit strings keep their precision.
 */
export function canonicalNumber(text: string): string | undefined {
  const m = NUMBER_RE.exec(text);
  if (!m) return undefined;
  const [, sign, intPart = '', fracPart = '', expText] = m;
  if (intPart === '' && fracPart === '') return undefined;
  const exp = expText === undefined ? 0 : Number(expText);
  if (!Number.isFinite(exp) || Math.abs(exp) > MAX_EXPONENT) return undefined;
  let digits = intPart + fracPart;
  let point = intPart.length + exp; // position of the decimal point within `digits`
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  } else if (point > digits.length) {
    digits = digits + '0'.repeat(point - digits.length);
  }
  let int = digits.slice(0, point).replace(/^0+/, '') || '0';
  const frac = digits.slice(point).replace(/0+$/, '');
  const isZero = int === '0' && frac === '';
  if (isZero) int = '0';
  return `${sign === '-' && !isZero ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

function coerceNumber(value: unknown, property: HubSpotProperty): CoerceResult {
  let out: string | undefined;
  if (typeof value === 'number') out = Number.isFinite(value) ? canonicalNumber(String(value)) : undefined;
  else if (typeof value === 'bigint') out = value.toString();
  else if (typeof value === 'string') out = canonicalNumber(value.trim());
  if (out === undefined) {
    return fail(
      'INVALID_NUMBER',
      property,
      "expects a finite number written with digits, an optional '.' decimal point and exponent, and no thousands separators",
    );
  }
  return { ok: true, value: out };
}

// ---- bool --------------------------------------------------------------------------------------

const TRUE_WORDS = new Set(['true', 'yes', '1']);
const FALSE_WORDS = new Set(['false', 'no', '0']);

function coerceBool(value: unknown, property: HubSpotProperty): CoerceResult {
  let key: string | undefined;
  if (typeof value === 'boolean') return { ok: true, value: value ? 'true' : 'false' };
  if (typeof value === 'number') key = String(value);
  else if (typeof value === 'string') key = value.trim().toLowerCase();
  if (key !== undefined && TRUE_WORDS.has(key)) return { ok: true, value: 'true' };
  if (key !== undefined && FALSE_WORDS.has(key)) return { ok: true, value: 'false' };
  return fail('INVALID_BOOL', property, 'expects true/false, yes/no or 1/0');
}

// ---- date and datetime -------------------------------------------------------------------------

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const EPOCH_RE = /^-?\d{1,16}$/;
const MAX_EPOCH_MS = 8.64e15;

/**
 * Parses ISO 8601 (`YYYY-MM-DD`, `YYYY-MM-DDTHH:mm[:ss[.fff]][Z|±HH[:mm]]`; no offset = UTC) or epoch
 * milliseconds (number or digit string) to a time value; undefined when invalid or out of range.
 */
export function parseTimeValue(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) <= MAX_EPOCH_MS ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  if (EPOCH_RE.test(s)) {
    const n = Number(s);
    return Math.abs(n) <= MAX_EPOCH_MS ? n : undefined;
  }
  const m = ISO_RE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', tz] = m;
  const year = Number(y),
    month = Number(mo),
    day = Number(d),
    hour = Number(h),
    minute = Number(mi),
    second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  let t = Date.UTC(year, month - 1, day, hour, minute, second, Number((frac + '000').slice(0, 3)));
  const check = new Date(t);
  // Date.UTC rolls 31 Feb over to March; a round trip catches impossible calendar dates.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  if (tz && tz.toUpperCase() !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2)),
      om = Number(digits.slice(2) || '0');
    if (oh > 23 || om > 59) return undefined;
    t -= sign * (oh * 60 + om) * 60_000;
  }
  return Math.abs(t) <= MAX_EPOCH_MS ? t : undefined;
}

function coerceDate(value: unknown, property: HubSpotProperty): CoerceResult {
  const t = parseTimeValue(value);
  if (t === undefined)
    return fail('INVALID_DATE', property, 'expects an ISO 8601 date (YYYY-MM-DD), an ISO 8601 date-time or epoch milliseconds');
  // HubSpot stores dates as UTC midnight: keep the UTC calendar day.
  return { ok: true, value: new Date(t).toISOString().slice(0, 10) };
}

function coerceDatetime(value: unknown, property: HubSpotProperty): CoerceResult {
  const t = parseTimeValue(value);
  if (t === undefined) return fail('INVALID_DATETIME', property, 'expects an ISO 8601 date-time or epoch milliseconds');
  return { ok: true, value: new Date(t).toISOString() };
}

// ---- enumeration -------------------------------------------------------------------------------

function resolveOption(raw: string, property: HubSpotProperty): string | undefined {
  for (const o of property.options) if (o.value === raw) return o.value;
  for (const o of property.options) if (o.label === raw) return o.value;
  return undefined;
}

function coerceEnumeration(value: unknown, property: HubSpotProperty): CoerceResult {
  const multi = property.fieldType === 'checkbox';
  let items: unknown[];
  if (Array.isArray(value)) {
    if (!multi && value.length !== 1)
      return fail('INVALID_OPTION', property, 'is a single-select enumeration and accepts one option value');
    items = value;
  } else if (multi && typeof value === 'string') {
    items = value.split(';');
  } else {
    items = [value];
  }
  const out: string[] = [];
  for (const item of items) {
    if (isBlank(item)) continue;
    const s = scalarToString(item);
    if (s === undefined) return fail('INVALID_OPTION', property, 'expects option values as text');
    const text = multi ? s.trim() : s;
    const resolved = property.externalOptions ? text : (resolveOption(text, property) ?? resolveOption(text.trim(), property));
    if (resolved === undefined) {
      return fail(
        'INVALID_OPTION',
        property,
        'accepts only the internal value or exact label of one of its options; add the option in HubSpot or fix the source data',
      );
    }
    if (!out.includes(resolved)) out.push(resolved);
  }
  if (out.length === 0) return OMIT;
  const joined = out.join(';');
  if (tooLong(joined)) return fail('VALUE_TOO_LONG', property, `accepts at most ${MAX_STRING_LENGTH} characters`);
  return { ok: true, value: joined };
}
