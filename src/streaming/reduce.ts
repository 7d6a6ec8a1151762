/**
 * Reduces an XDM profile, at the API, to what a streaming flush needs: the primary email, the update
 * time, the status per audience and the values of the destination's mapped source paths. Everything
 * else in the profile is dropped before it reaches Temporal. `toXdmProfile` rebuilds a minimal profile
 * from a reduced update (stored with a rejection, so it can be read and re-sent like any XDM record).
 */
import { isValidEmail, normalizeEmail } from '../mapping/email';
import { IDENTITY_SOURCE, type Mapping } from '../mapping/types';
import { getPath, isPlainObject, primaryEmail, profileTimestamp, type XdmProfile } from '../mapping/xdm';
import type { StreamUpdate } from './types';

/** Every membership entry of the profile, `ups` first (as `audienceStatus` prefers it). */
function memberships(profile: XdmProfile): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  const sm = profile.segmentMembership;
  if (!isPlainObject(sm)) return out;
  const namespaces = Object.keys(sm).sort((a, b) => (a === 'ups' ? -1 : b === 'ups' ? 1 : 0));
  for (const ns of namespaces) {
    const entries = sm[ns];
    if (!isPlainObject(entries)) continue;
    for (const [audienceId, entry] of Object.entries(entries)) {
      if (!isPlainObject(entry) || Object.hasOwn(out, audienceId)) continue;
      const status = entry.status;
      out[audienceId] = status === undefined || status === null ? null : typeof status === 'string' ? status : String(status);
    }
  }
  return out;
}

export function reduceProfile(profile: XdmProfile, mapping: Mapping, receivedAt: number): StreamUpdate {
  const raw = primaryEmail(profile);
  const email = raw === undefined ? undefined : normalizeEmail(raw);
  const ts = profileTimestamp(profile);
  const t = ts ? Date.parse(ts) : receivedAt;
  const v: Record<string, unknown> = {};
  for (const { source } of mapping.attributes) {
    if (source === IDENTITY_SOURCE) continue;
    const value = getPath(profile, source);
    if (value !== undefined) v[source] = value;
  }
  const update: StreamUpdate = { t, s: memberships(profile), v };
  if (email === undefined || email === '') update.x = 'MISSING_EMAIL';
  else {
    update.e = email;
    if (!isValidEmail(email)) update.x = 'INVALID_EMAIL';
  }
  return update;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const key of keys.slice(0, -1)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return;
    const next = cur[key];
    if (!isPlainObject(next)) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (last === '__proto__' || last === 'constructor' || last === 'prototype') return;
  cur[last] = value;
}

/** A minimal XDM profile equivalent to the reduced update (for stored rejections). */
export function toXdmProfile(u: StreamUpdate): XdmProfile {
  const profile: XdmProfile = {};
  if (u.e !== undefined) profile.identityMap = { Email: [{ id: u.e, primary: true }] };
  profile.timestamp = new Date(u.t).toISOString();
  const ups: Record<string, unknown> = {};
  for (const [audienceId, status] of Object.entries(u.s)) ups[audienceId] = status === null ? {} : { status };
  profile.segmentMembership = { ups };
  for (const [path, value] of Object.entries(u.v)) setPath(profile, path, value);
  return profile;
}
