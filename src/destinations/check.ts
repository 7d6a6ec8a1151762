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

/** Asked for only when a run lists a list-encoded audience (reading and writing its MANUAL list). */
export const LIST_SCOPES = ['crm.lists.read', 'crm.lists.write'] as const;

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

/** Token and scopes only (each activation starts with this); `lists`: the run keeps HubSpot lists, so the list scopes are needed too. */
export async function checkToken(client: HubSpotClient, options: { lists?: boolean } = {}): Promise<ConnectionCheck> {
  let info;
  try {
    info = await client.getAccessTokenInfo();
  } catch (err) {
    const p = finalProblem(err);
    if (!p) throw err;
    return { problems: [p] };
  }
  const required: readonly string[] = options.lists ? [...REQUIRED_SCOPES, ...LIST_SCOPES] : REQUIRED_SCOPES;
  const missing = required.filter((s) => !info.scopes.includes(s));
  const problems: Problem[] = missing.length
    ? [
        {
          code: Failure.HubSpotMissingScopes.code,
          message: `The HubSpot token lacks the scopes ${missing.join(', ')}${missing.some((m) => (LIST_SCOPES as readonly string[]).includes(m)) ? ' (audiences encoded as HubSpot lists need crm.lists.read and crm.lists.write)' : ''}. Add them to the private app (or service key) and set the new token.`,
          field: 'hubspot.token',
        },
      ]
    : [];
  return { portalId: info.hubId, scopes: info.scopes, problems };
}

/** A destination stays on the HubSpot portal it was created on; a token of another portal is refused. */
export function portalChangedProblem(boundPortalId: number, tokenPortalId: number): Problem {
  return {
    code: Failure.DestinationPortalChanged.code,
    message: `This token belongs to HubSpot portal ${tokenPortalId}, but the destination is bound to portal ${boundPortalId} for its whole life. Use a token of portal ${boundPortalId}, or create a new destination for portal ${tokenPortalId}.`,
    field: 'hubspot.token',
  };
}

export interface CheckConnectionOptions {
  /** The portal the destination is bound to (updates): a token of another portal is a problem. */
  portalId?: number;
  /**
   * The client for the calls after the token check, paced by the rate governor under the portal the
   * token belongs to (only known once the token is checked). Default: the token-check client.
   */
  paced?: (portalId: number) => HubSpotClient;
}

/** Full check for creating or updating a destination. */
export async function checkConnection(
  tokenClient: HubSpotClient,
  mapping: Mapping,
  options: CheckConnectionOptions = {},
): Promise<ConnectionCheck> {
  const token = await checkToken(tokenClient);
  if (token.problems.length) return token;
  if (options.portalId !== undefined && token.portalId !== options.portalId) {
    return { ...token, problems: [portalChangedProblem(options.portalId, token.portalId!)] };
  }
  const client = options.paced ? options.paced(token.portalId!) : tokenClient;
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
