/** Types shared by the simulator's modules and its public API. */

export type Tier = 'free' | 'starter' | 'pro' | 'enterprise';
export type TokenType = 'private-app' | 'service-key';
export type RateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'DAILY' | 'SECONDLY';

/** The four CRM scopes a new account's token gets unless told otherwise. */
export const DEFAULT_SCOPES: readonly string[] = [
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.contacts.read',
  'crm.schemas.contacts.write',
];

export interface CreateAccountOptions {
  tier?: Tier;
  /** true = one API limit increase pack; a number = that many packs (max 2). */
  apiAddOn?: boolean | number;
  scopes?: string[];
  /** IANA zone (or HubSpot's `US/Eastern` style alias) used for the daily reset. Default `US/Eastern`. */
  timeZone?: string;
  tokenType?: TokenType;
  /** Free-form tag, e.g. `demo`, so a restarted simulator can find the demo account again. */
  label?: string;
  /** Overrides of the simulator's account defaults (see AccountBehaviour). */
  behaviour?: Partial<AccountBehaviour>;
}

/**
 * An admin-configured rule (2026-09 enforces them on API writes): `require` must be set on the record
 * after the write, either always, on creation only (`onCreateOnly`, like required fields of the Create
 * Record form), or when `when.property` equals `when.equals` (a conditional required property).
 */
export interface WriteRule {
  require: string[];
  when?: { property: string; equals: string };
  onCreateOnly?: boolean;
}

/** Per-account answers where HubSpot leaves the behaviour open (see state/behaviour.ts). */
export interface AccountBehaviour {
  /** A traced upsert batch with a bad record: 207 with per-record errors, or the whole-batch 400. Default per-record. */
  upsertPartial: 'per-record' | 'all-or-nothing';
  /** Whether upsert results carry the input's objectWriteTraceId. Default true. */
  echoTraceIds: boolean;
  /** The 10-second burst limit per app (token's app; HubSpot's documented rule) or per account. Default app. */
  burstScope: 'app' | 'account';
  /** Validation rules enforced on writes through version 2026-09 paths. Default none. */
  writeRules: WriteRule[];
}

export interface CreatedAccount {
  portalId: number;
  token: string;
  tokenType: TokenType;
  tier: Tier;
  apiAddOn: number;
  scopes: string[];
  timeZone: string;
}

/** What identifies a portal and its plan; shared by the live portal, its snapshot and the admin view. */
export interface PortalIdentity {
  portalId: number;
  tier: Tier;
  apiAddOn: number;
  timeZone: string;
  label?: string;
  createdAt: string;
}

export interface AccountInfo extends PortalIdentity {
  tokens: { tokenType: TokenType; scopes: string[]; revoked: boolean; appId: number }[];
  behaviour: AccountBehaviour;
  contactCount: number;
  limits: LimitsInfo;
}

export interface LimitsInput {
  tenSecondly?: number;
  daily?: number;
  /** ISO time overriding the next daily reset (test knob); null clears the override. */
  dailyResetsAt?: string | null;
  searchPerSecond?: number;
}

export interface LimitsInfo {
  tenSecondly: number;
  daily: number;
  dailyUsed: number;
  dailyRemaining: number;
  dailyResetsAt: string;
  searchPerSecond: number;
}

export interface FaultConfig {
  /** Fraction (0–1) of requests answered with a 5xx from `errorStatuses`. */
  errorRate?: number;
  /** Fraction of requests never answered (held until the client gives up or the simulator closes). */
  hangRate?: number;
  /** Fraction of requests whose socket is destroyed without an answer. */
  resetRate?: number;
  /** Added latency before the handler runs, plus up to `jitterMs` more. */
  latencyMs?: number;
  jitterMs?: number;
  /** Path prefixes the faults apply to; all HubSpot routes when omitted. */
  routes?: string[];
  /** Which statuses `errorRate`/`errorBurst` pick from. Default [500, 502, 503, 504]. */
  errorStatuses?: number[];
  /** The next N matching requests get an error from `errorStatuses`. */
  errorBurst?: number;
  /** The next N matching authenticated requests get an unexpected TEN_SECONDLY_ROLLING 429. */
  rateLimitBurst?: number;
  /** Fraction of matching authenticated requests answered with an unexpected 429. */
  rate429Rate?: number;
  /** Contacts created less than this long ago are invisible to search (eventual consistency). */
  searchIndexLagMs?: number;
  /** Fraction of matching batch upsert, batch read and search requests answered 2xx with empty `results`, doing nothing (a silent no-op). */
  emptyResultsRate?: number;
  /** The next N matching batch upsert, batch read or search requests get that silent no-op. */
  emptyResultsBurst?: number;
  /** Seed for the fault dice: the same seed injects the same sequence of faults (default: unseeded). */
  seed?: number;
}

export interface SimSettings {
  /** Send `Retry-After` (seconds) on 429s. */
  retryAfter: boolean;
}

export interface PortalStats {
  requests: number;
  /** Highest number of authenticated requests (429s included) arriving in any 10-second window. */
  maxRequestsIn10s: number;
  /** Highest number of accepted (non-429) requests in any 10-second window of one burst window (per app, or per account under burstScope "account"). */
  maxAcceptedIn10s: number;
  rateLimited: number;
}

export interface StatsSnapshot {
  startedAt: string;
  totalRequests: number;
  /** `METHOD /route/pattern` → status (or `hang`/`reset`) → count. */
  byRoute: Record<string, Record<string, number>>;
  rateLimited: Record<RateLimitPolicy, number>;
  faults: { errors: number; hangs: number; resets: number; delayed: number; injected429: number; emptyResults: number };
  /** API version (`v3`, `2026-03`, …) → requests that came in on its paths; unmatched paths are not counted here. */
  byVersion: Record<string, number>;
  portals: Record<string, PortalStats>;
  inFlight: number;
  peakConcurrency: number;
  process: { cpuUserMs: number; cpuSystemMs: number; rssBytes: number };
}

export interface ContactJson {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface ContactPage {
  results: ContactJson[];
  paging?: { next: { after: string; link: string } };
}

export interface PropertyOption {
  label: string;
  value: string;
  description?: string;
  displayOrder: number;
  hidden: boolean;
}

/** A property as the Properties API returns it. */
export interface PropertyJson {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  description: string;
  groupName: string;
  options: PropertyOption[];
  displayOrder: number;
  calculated: boolean;
  externalOptions: boolean;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined?: boolean;
  formField: boolean;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean };
  dataSensitivity: string;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  createdUserId?: string;
  updatedUserId?: string;
  referencedObjectType?: string;
  textDisplayHint?: string;
  numberDisplayHint?: string;
  showCurrencySymbol?: boolean;
}

export interface PropertyGroupJson {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}
