/** What a HubSpot route handler receives and returns. */
import type { Faults } from '../faults';
import type { AccountStore, Portal, TokenRecord } from '../state/accounts';
import type { Stats } from '../stats';
import type { SimSettings } from '../types';
import type { ApiVersion } from './versions';

export interface SimState {
  accounts: AccountStore;
  faults: Faults;
  stats: Stats;
  settings: SimSettings;
  /** Milliseconds since the epoch (injectable for tests). */
  clock: () => number;
  /** Tells the snapshot writer that state changed. */
  markDirty(): void;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface BaseContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  path: string;
  now: number;
  nowIso: string;
  /** `http://host:port` as the client addressed us, for paging links. */
  baseUrl: string;
  state: SimState;
  /** The API version of the path this request came in on. */
  version: ApiVersion;
}

export interface AuthedContext extends BaseContext {
  portal: Portal;
  token: TokenRecord;
}

interface RouteBase {
  method: string;
  pattern: string;
  /** The API version the path belongs to; recorded in the stats. Default v3. */
  version?: ApiVersion;
}

export interface AuthedRoute extends RouteBase {
  auth: 'token';
  /** Any one of these scopes grants access; none listed = any valid token. */
  scopes?: string[];
  /** Subject to search's separate per-second limit. */
  search?: boolean;
  /** Changes state (the snapshot writer is told after it succeeds). */
  writes?: boolean;
  /** Not counted against, nor refused by, the rate limits (usage monitoring; an assumption). */
  unmetered?: boolean;
  /** Exempt from the ten-second burst limit (the spec's `x-hubspot-rate-limit-exemptions: ["ten-secondly"]`). */
  tenSecondlyExempt?: boolean;
  /** HubSpot sends no X-HubSpot-RateLimit-* headers on this route's answers. */
  noRateLimitHeaders?: boolean;
  /** The 2xx body with empty `results` this route answers under the `emptyResults` fault; routes without one are never faulted so. */
  emptyAnswer?(nowIso: string): unknown;
  handler(ctx: AuthedContext): Reply;
}

export interface PublicRoute extends RouteBase {
  auth: 'none';
  handler(ctx: BaseContext): Reply;
}

export type HubSpotRoute = AuthedRoute | PublicRoute;

export const SCOPES = {
  contactsRead: 'crm.objects.contacts.read',
  contactsWrite: 'crm.objects.contacts.write',
  schemasRead: 'crm.schemas.contacts.read',
  schemasWrite: 'crm.schemas.contacts.write',
} as const;
