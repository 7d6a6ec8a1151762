/**
 * Checks a HubSpot connection and a field mapping against the live account: the token works, it has the
 * four scopes the destination needs, and every mapping target exists and is writable. Returns problems
 * (each saying what to fix) rather than throwing, so the API can answer 4xx with all of them at once.
 * Transient HubSpot errors are thrown (to be retried).
 */
import { Failure } from '../failures';
import type { HubSpotClient } from '../hubspot/client';
import { HubSpotApiError } from '../hubspot/errors';
import type { HubSpotProperty } from '../hubspot/types';
import { checkMapping } from '../mapping/check-mapping';
import type { Mapping } from '../mapping/types';

export const REQUIRED_SCOPES = [
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.contacts.read',
  'crm.schemas.contacts.write',
] as const;

export interface Problem {
  code: string;
  message: string;
  field?: string;
}

export interface ConnectionCheck {
  portalId?: number;
  timeZone?: string;
  scopes?: string[];
  properties?: HubSpotProperty[];
  problems: Problem[];
}

/** A final HubSpot error as a problem: its failure's code, and the field to fix (the token, or else the URL). */
function finalProblem(err: unknown): Problem | undefined {
  if (!(err instanceof HubSpotApiError) || err.retryable) return undefined;
  const field = err.kind === 'auth' || err.kind === 'scope' ? 'hubspot.token' : 'hubspot.baseUrl';
  return { code: err.failure.code, message: err.message, field };
}

/** Token and scopes only (each activation starts with this). */
export async function checkToken(client: HubSpotClient): Promise<ConnectionCheck> {
  let info;
  try {
    info = await client.getAccessTokenInfo();
  } catch (err) {
    const p = finalProblem(err);
    if (!p) throw err;
    return { problems: [p] };
  }
  const missing = REQUIRED_SCOPES.filter((s) => !info.scopes.includes(s));
  const problems: Problem[] = missing.length
    ? [
        {
          code: Failure.HubSpotMissingScopes.code,
          message: `The HubSpot token lacks the scopes ${missing.join(', ')}. Add them to the private app (or service key) and set the new token.`,
          field: 'hubspot.token',
        },
      ]
    : [];
  return { portalId: info.hubId, scopes: info.scopes, problems };
}

/** Full check for creating or updating a destination. */
export async function checkConnection(client: HubSpotClient, mapping: Mapping): Promise<ConnectionCheck> {
  const token = await checkToken(client);
  if (token.problems.length) return token;
  let timeZone = 'UTC';
  try {
    timeZone = (await client.getAccountDetails()).timeZone || 'UTC';
  } catch (err) {
    // Account details need another scope on some apps; without them daily resets are computed in UTC.
    if (!(err instanceof HubSpotApiError) || err.retryable) throw err;
  }
  let properties: HubSpotProperty[];
  try {
    properties = await client.listContactProperties();
  } catch (err) {
    const p = finalProblem(err);
    if (!p) throw err;
    return { ...token, problems: [p] };
  }
  const problems = checkMapping(mapping, properties).map((p) => ({ code: p.code, message: p.message, field: p.field }));
  return { ...token, timeZone, properties, problems };
}
