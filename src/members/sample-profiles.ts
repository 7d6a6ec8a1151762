/**
 * Deterministic synthetic XDM profiles for demos, tests and benchmarks. Same seed → same bytes.
 * Every value is made up: emails use reserved example/test domains, phones the fictional 555-01xx range.
 */
import { createPrng } from '../util/prng';
import type { MemberStatus } from './types';

export interface SampleAudience {
  id: string;
  name: string;
}

/** The three demo audiences (UUID-like ids, as AEP uses). */
export const SAMPLE_AUDIENCES: readonly SampleAudience[] = [
  { id: '2f4c9a1e-7b3d-4e8a-9c51-0d6b2e8f4a17', name: 'High-value customers' },
  { id: '8b1e5d37-2c9f-4a64-b8e0-5f3a7c1d9e26', name: 'Newsletter subscribers' },
  { id: 'c7d2f0a9-4e18-4b3c-a6d5-91e8b2f7c034', name: 'Lapsed buyers' },
];

export { createPrng };

// [display name, ASCII form for the email]
const FIRST_NAMES: ReadonlyArray<[string, string]> = [
  ['Ana', 'ana'],
  ['Ben', 'ben'],
  ['Chloé', 'chloe'],
  ['Daniel', 'daniel'],
  ['Elif', 'elif'],
  ['Farah', 'farah'],
  ['Gustavo', 'gustavo'],
  ['Hana', 'hana'],
  ['Ioana', 'ioana'],
  ['Jonas', 'jonas'],
  ['Kwame', 'kwame'],
  ['Léa', 'lea'],
  ['Mateo', 'mateo'],
  ['Nadia', 'nadia'],
  ['Oskar', 'oskar'],
  ['Priya', 'priya'],
  ['Quinn', 'quinn'],
  ['Rosa', 'rosa'],
  ['Søren', 'soren'],
  ['Tomás', 'tomas'],
  ['Uma', 'uma'],
  ['Viktor', 'viktor'],
  ['Wen', 'wen'],
  ['Yara', 'yara'],
  ['Zoë', 'zoe'],
];
const LAST_NAMES: ReadonlyArray<[string, string]> = [
  ['García', 'garcia'],
  ['Müller', 'muller'],
  ['Okafor', 'okafor'],
  ['Nakamura', 'nakamura'],
  ['Silva', 'silva'],
  ['Kowalski', 'kowalski'],
  ['Dubois', 'dubois'],
  ['Andersen', 'andersen'],
  ['Rossi', 'rossi'],
  ['Haddad', 'haddad'],
  ['Smith', 'smith'],
  ['Novák', 'novak'],
  ['Ivanova', 'ivanova'],
  ['Chen', 'chen'],
  ["O'Brien", 'obrien'],
  ['Patel', 'patel'],
  ['Fernández', 'fernandez'],
  ['Yılmaz', 'yilmaz'],
  ['Kim', 'kim'],
  ['Mensah', 'mensah'],
];
const PLACES: ReadonlyArray<[string, string]> = [
  ['Lisbon', 'Portugal'],
  ['Berlin', 'Germany'],
  ['Lagos', 'Nigeria'],
  ['Osaka', 'Japan'],
  ['São Paulo', 'Brazil'],
  ['Kraków', 'Poland'],
  ['Lyon', 'France'],
  ['Aarhus', 'Denmark'],
  ['Milan', 'Italy'],
  ['Beirut', 'Lebanon'],
  ['Washington, D.C.', 'United States'],
  ['Brno', 'Czechia'],
  ['Toronto', 'Canada'],
  ['Seoul', 'South Korea'],
  ['Accra', 'Ghana'],
];
const STREETS = ['Market Street', 'Station Road', 'Harbour Way', 'Elm Avenue', 'Rua Augusta', 'Hauptstraße', 'Rue de la Paix', 'Via Roma'];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.test'];
const STATUSES: MemberStatus[] = ['realized', 'existing', 'exited'];

export interface GenerateOptions {
  count: number;
  seed?: number;
  audiences?: readonly SampleAudience[];
  /** Chance of membership per audience, in order (default 0.6, 0.45, 0.3, then 0.3). */
  membershipRates?: number[];
}

export interface SampleProfile {
  identityMap: { Email: Array<{ id: string; primary: boolean; authenticatedState?: string }> };
  person: { name: { firstName: string; lastName: string }; birthDate: string };
  workAddress: { street1: string; city: string; country: string };
  mobilePhone: { number: string };
  _sample: { loyaltyPoints: number; vip: boolean };
  segmentMembership: { ups: Record<string, { status: MemberStatus; lastQualificationTime: string }> };
  timestamp: string;
}

const YEAR_START = Date.UTC(2024, 0, 1);
const YEAR_MS = 365 * 24 * 3600 * 1000;

function pick<T>(rnd: () => number, list: ReadonlyArray<T>): T {
  return list[Math.floor(rnd() * list.length)];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

const DAY_MS = 86_400_000;
const dayCache = new Map<number, string>();
const PAD2 = Array.from({ length: 100 }, (_, i) => pad(i, 2));
const PAD3 = Array.from({ length: 1000 }, (_, i) => pad(i, 3));

/** `Date#toISOString` for years 1970–9999, without a Date per call (generation speed). */
export function isoTime(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let date = dayCache.get(day);
  if (date === undefined) {
    date = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayCache.size < 100_000) dayCache.set(day, date);
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  return `${date}${PAD2[h]}:${PAD2[m]}:${PAD2[sec]}.${PAD3[rest - sec * 1000]}Z`;
}

/** Profiles one by one; every profile belongs to at least one audience. */
export function* generateProfileObjects(options: GenerateOptions): Generator<SampleProfile> {
  const rnd = createPrng(options.seed ?? 42);
  const audiences = options.audiences ?? SAMPLE_AUDIENCES;
  const rates = audiences.map((_, i) => options.membershipRates?.[i] ?? [0.6, 0.45, 0.3][i] ?? 0.3);
  for (let i = 1; i <= options.count; i++) {
    const [first, firstAscii] = pick(rnd, FIRST_NAMES);
    const [last, lastAscii] = pick(rnd, LAST_NAMES);
    const [city, country] = pick(rnd, PLACES);
    const domain = pick(rnd, DOMAINS);
    const email = `${firstAscii}.${lastAscii}.${i}@${domain}`;
    const emails: SampleProfile['identityMap']['Email'] = [{ id: email, primary: true, authenticatedState: 'authenticated' }];
    if (rnd() < 0.15) {
      const secondary = { id: `${firstAscii[0]}${lastAscii}${i}@example.org`, primary: false };
      // Sometimes listed first, so the primary flag (not the order) must decide.
      if (rnd() < 0.5) emails.unshift(secondary);
      else emails.push(secondary);
    }
    const ts = YEAR_START + Math.floor(rnd() * YEAR_MS);
    const ups: SampleProfile['segmentMembership']['ups'] = {};
    let memberships = 0;
    for (let k = 0; k < audiences.length; k++) {
      if (rnd() < rates[k]) {
        ups[audiences[k].id] = membership(rnd, ts);
        memberships++;
      }
    }
    if (memberships === 0) ups[audiences[Math.floor(rnd() * audiences.length)].id] = membership(rnd, ts);
    const birth = Date.UTC(1950 + Math.floor(rnd() * 55), 0, 1) + Math.floor(rnd() * 365) * DAY_MS;
    yield {
      identityMap: { Email: emails },
      person: { name: { firstName: first, lastName: last }, birthDate: isoTime(birth).slice(0, 10) },
      workAddress: { street1: `${1 + Math.floor(rnd() * 200)} ${pick(rnd, STREETS)}`, city, country },
      mobilePhone: { number: `+1-202-555-01${pad(Math.floor(rnd() * 100), 2)}` },
      _sample: { loyaltyPoints: Math.floor(rnd() * 10_000), vip: rnd() < 0.1 },
      segmentMembership: { ups },
      timestamp: isoTime(ts),
    };
  }
}

function membership(rnd: () => number, ts: number): { status: MemberStatus; lastQualificationTime: string } {
  const r = rnd();
  const status = STATUSES[r < 0.55 ? 0 : r < 0.85 ? 1 : 2];
  return { status, lastQualificationTime: isoTime(ts - Math.floor(rnd() * 30 * DAY_MS)) };
}

/**
 * The profile's NDJSON line, equal to `JSON.stringify(profile)` but several times faster: every string
 * comes from the fixed vocabularies above (no character needing a JSON escape), except ids that pass
 * through `JSON.stringify` anyway.
 */
export function profileToJson(p: SampleProfile): string {
  const emails = p.identityMap.Email.map((e) =>
    e.authenticatedState === undefined
      ? `{"id":"${e.id}","primary":${e.primary}}`
      : `{"id":"${e.id}","primary":${e.primary},"authenticatedState":"${e.authenticatedState}"}`,
  ).join(',');
  let ups = '';
  for (const id in p.segmentMembership.ups) {
    const m = p.segmentMembership.ups[id];
    ups += `${ups ? ',' : ''}${JSON.stringify(id)}:{"status":"${m.status}","lastQualificationTime":"${m.lastQualificationTime}"}`;
  }
  const n = p.person.name;
  const w = p.workAddress;
  return (
    `{"identityMap":{"Email":[${emails}]},"person":{"name":{"firstName":"${n.firstName}","lastName":"${n.lastName}"},"birthDate":"${p.person.birthDate}"},` +
    `"workAddress":{"street1":"${w.street1}","city":"${w.city}","country":"${w.country}"},"mobilePhone":{"number":"${p.mobilePhone.number}"},` +
    `"_sample":{"loyaltyPoints":${p._sample.loyaltyPoints},"vip":${p._sample.vip}},"segmentMembership":{"ups":{${ups}}},"timestamp":"${p.timestamp}"}`
  );
}

/** NDJSON lines (no trailing newline). */
export function* generateProfiles(options: GenerateOptions): Generator<string> {
  for (const p of generateProfileObjects(options)) yield profileToJson(p);
}

/** Columns of the CSV custom-upload variant (source paths, `email`, `status`). */
export const SAMPLE_CSV_COLUMNS = [
  'email',
  'person.name.firstName',
  'person.name.lastName',
  'workAddress.city',
  'workAddress.country',
  'status',
];

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The CSV row of a profile for one audience, or undefined when it is not a member. */
export function profileCsvRow(p: SampleProfile, audienceId: string): string | undefined {
  const m = p.segmentMembership.ups[audienceId];
  if (!m) return undefined;
  const email = p.identityMap.Email.find((e) => e.primary)?.id ?? p.identityMap.Email[0].id;
  return [email, p.person.name.firstName, p.person.name.lastName, p.workAddress.city, p.workAddress.country, m.status]
    .map(csvField)
    .join(',');
}
