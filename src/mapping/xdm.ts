/**
 * Helpers over a parsed XDM profile (Adobe Experience Platform's profile export shape):
 * `identityMap.Email[]`, attributes by dotted path, `segmentMembership.<namespace>.<audienceId>`.
 */

export type XdmProfile = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Value at a dotted path (`person.name.firstName`); `undefined` when any step is missing.
 * A numeric segment indexes an array (`identityMap.Email.0.id`).
 */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  let start = 0;
  // Manual split: this runs once per mapped attribute per record.
  while (start <= path.length) {
    let end = path.indexOf('.', start);
    if (end === -1) end = path.length;
    const key = path.slice(start, end);
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(key)) return undefined;
      cur = cur[Number(key)];
    } else if (isPlainObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
      cur = cur[key];
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
    start = end + 1;
  }
  return cur;
}

/** The identityMap namespace holding emails: `Email` (AEP's code), matched case-insensitively. */
function emailIdentities(profile: XdmProfile): unknown[] | undefined {
  const map = profile.identityMap;
  if (!isPlainObject(map)) return undefined;
  if (Array.isArray(map.Email)) return map.Email;
  for (const key of Object.keys(map)) {
    if (key.toLowerCase() === 'email' && Array.isArray(map[key])) return map[key] as unknown[];
  }
  return undefined;
}

/** Primary email as written in the profile (not normalised): the `primary: true` entry, else the first. */
export function primaryEmail(profile: XdmProfile): string | undefined {
  const entries = emailIdentities(profile);
  if (!entries) return undefined;
  let first: string | undefined;
  for (const e of entries) {
    if (!isPlainObject(e) || typeof e.id !== 'string' || e.id.trim() === '') continue;
    if (e.primary === true) return e.id;
    if (first === undefined) first = e.id;
  }
  return first;
}

/**
 * The membership entry of an audience: `segmentMembership.ups.<audienceId>` (the Profile service
 * namespace, where AEP puts every audience it evaluates); other namespaces are searched when `ups` has
 * no entry, for audiences imported under their own namespace.
 */
export function audienceMembership(profile: XdmProfile, audienceId: string): Record<string, unknown> | undefined {
  const sm = profile.segmentMembership;
  if (!isPlainObject(sm)) return undefined;
  // Own keys only: an id like `__proto__` must never read Object.prototype as a membership entry.
  const entryIn = (entries: unknown): Record<string, unknown> | undefined =>
    isPlainObject(entries) && Object.hasOwn(entries, audienceId) && isPlainObject(entries[audienceId]) ? entries[audienceId] : undefined;
  const fromUps = Object.hasOwn(sm, 'ups') ? entryIn(sm.ups) : undefined;
  if (fromUps) return fromUps;
  for (const ns of Object.keys(sm)) {
    if (ns === 'ups') continue;
    const entry = entryIn(sm[ns]);
    if (entry) return entry;
  }
  return undefined;
}

/** Raw status of the profile in the audience (`realized` | `existing` | `exited` when well formed). */
export function audienceStatus(profile: XdmProfile, audienceId: string): string | undefined {
  const entry = audienceMembership(profile, audienceId);
  if (!entry || entry.status === undefined || entry.status === null) return undefined;
  return typeof entry.status === 'string' ? entry.status : String(entry.status);
}

function isoOrUndefined(v: unknown): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const t = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(t)) return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Profile time: `timestamp`, else the latest `lastQualificationTime` of any membership; ISO 8601 UTC. */
export function profileTimestamp(profile: XdmProfile): string | undefined {
  const ts = isoOrUndefined(profile.timestamp);
  if (ts) return ts;
  const sm = profile.segmentMembership;
  if (!isPlainObject(sm)) return undefined;
  let latest: string | undefined;
  for (const ns of Object.values(sm)) {
    if (!isPlainObject(ns)) continue;
    for (const entry of Object.values(ns)) {
      if (!isPlainObject(entry)) continue;
      const t = isoOrUndefined(entry.lastQualificationTime);
      // ISO strings from toISOString() compare chronologically (years 0000–9999).
      if (t && (latest === undefined || t > latest)) latest = t;
    }
  }
  return latest;
}
