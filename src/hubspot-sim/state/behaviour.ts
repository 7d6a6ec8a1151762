/**
 * Per-account switches for the answers HubSpot leaves open, so a test can play each of them:
 * - `upsertPartial`: the contacts guide says "Partial upserts are not supported when using email as the
 *   idProperty" (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide), so a
 *   batch with one bad record may fail whole even when every input has an objectWriteTraceId;
 * - `echoTraceIds`: whether upsert results carry the input's objectWriteTraceId (undocumented);
 * - `burstScope`: the 10-second limit per app, as HubSpot documents
 *   (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines), or shared by the account;
 * - `writeRules`: admin-configured validation rules, enforced on writes from version 2026-09
 *   (https://developers.hubspot.com/changelog/crm-api-write-validation-enforcement).
 */
import { AdminError } from './accounts';
import type { AccountBehaviour, WriteRule } from '../types';

export const DEFAULT_BEHAVIOUR: AccountBehaviour = {
  upsertPartial: 'per-record',
  echoTraceIds: true,
  burstScope: 'app',
  writeRules: [],
};

const KEYS = ['upsertPartial', 'echoTraceIds', 'burstScope', 'writeRules'];

function names(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === ''))
    throw new AdminError(400, `${what} must be a non-empty array of property names`);
  return v as string[];
}

function writeRule(raw: unknown): WriteRule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new AdminError(400, 'each write rule must be a JSON object');
  const r = raw as Record<string, unknown>;
  const require = names(r.require, 'writeRules[].require');
  if (r.when === undefined) return { require, onCreateOnly: r.onCreateOnly === true };
  const w = r.when as Record<string, unknown> | null;
  if (w === null || typeof w !== 'object' || typeof w.property !== 'string' || typeof w.equals !== 'string')
    throw new AdminError(400, 'writeRules[].when must be {property, equals}');
  return { require, when: { property: w.property, equals: w.equals }, onCreateOnly: r.onCreateOnly === true };
}

/** `base` with the valid keys of `input` applied; unknown keys and bad values → AdminError 400. */
export function mergeBehaviour(base: AccountBehaviour, input: unknown): AccountBehaviour {
  if (input === undefined) return { ...base };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new AdminError(400, 'behaviour must be a JSON object');
  const raw = input as Record<string, unknown>;
  for (const k of Object.keys(raw)) if (!KEYS.includes(k)) throw new AdminError(400, `Unknown behaviour setting "${k}"`);
  const out: AccountBehaviour = { ...base };
  if (raw.upsertPartial !== undefined) {
    if (raw.upsertPartial !== 'per-record' && raw.upsertPartial !== 'all-or-nothing')
      throw new AdminError(400, 'upsertPartial must be "per-record" or "all-or-nothing"');
    out.upsertPartial = raw.upsertPartial;
  }
  if (raw.echoTraceIds !== undefined) {
    if (typeof raw.echoTraceIds !== 'boolean') throw new AdminError(400, 'echoTraceIds must be a boolean');
    out.echoTraceIds = raw.echoTraceIds;
  }
  if (raw.burstScope !== undefined) {
    if (raw.burstScope !== 'app' && raw.burstScope !== 'account') throw new AdminError(400, 'burstScope must be "app" or "account"');
    out.burstScope = raw.burstScope;
  }
  if (raw.writeRules !== undefined) {
    if (!Array.isArray(raw.writeRules)) throw new AdminError(400, 'writeRules must be an array');
    out.writeRules = raw.writeRules.map(writeRule);
  }
  return out;
}
