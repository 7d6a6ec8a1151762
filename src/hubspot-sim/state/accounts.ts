/**
 * Portals (HubSpot accounts) and their tokens. Requests are routed to a portal by bearer token, so the
 * token index is a Map. Tokens: private app `pat-na1-<uuid>`, service key `sk-na1-<uuid>` (assumed format).
 */
import { randomUUID } from 'node:crypto';
import { expiredToken, unauthorized } from '../hubspot-errors';
import { PortalRateLimiter } from '../limits/rate-limiter';
import { limitsFor, normalisePacks, TIERS, type TierLimits } from '../limits/tiers';
import { assertTimeZone } from '../limits/timezone';
import type { AccountBehaviour, AccountInfo, CreateAccountOptions, CreatedAccount, PortalIdentity, Tier, TokenType } from '../types';
import { DEFAULT_SCOPES } from '../types';
import { DEFAULT_BEHAVIOUR, mergeBehaviour } from './behaviour';
import { ContactStore, type ContactStoreState } from './contacts';
import { ListStore, type ListStoreState } from './lists';
import { PropertyStore, type PropertyStoreState } from './properties';

export interface TokenRecord {
  token: string;
  tokenType: TokenType;
  scopes: Set<string>;
  appId: number;
  revoked: boolean;
  createdAt: string;
  /** Epoch ms after which the token answers 401 EXPIRED_AUTHENTICATION (set by the admin expire knob). */
  expiresAt?: number;
  portal: Portal;
}

export interface Portal extends PortalIdentity {
  userId: number;
  tokens: TokenRecord[];
  properties: PropertyStore;
  contacts: ContactStore;
  /** Lists (Lists API v3, state/lists.ts). */
  lists: ListStore;
  limiter: PortalRateLimiter;
  behaviour: AccountBehaviour;
}

/** The identity fields of a portal, for its admin view and its snapshot. */
function identityOf(p: Portal): PortalIdentity {
  return { portalId: p.portalId, tier: p.tier, apiAddOn: p.apiAddOn, timeZone: p.timeZone, label: p.label, createdAt: p.createdAt };
}

export interface AccountsOptions {
  searchPerSecond: number;
  /** Milliseconds since the epoch; tests inject a controllable clock. */
  clock: () => number;
  tierLimits?: Partial<Record<Tier, Partial<TierLimits>>>;
  /** Behaviour of new accounts where HubSpot leaves it open (simulator option / CLI). */
  behaviourDefaults?: Partial<AccountBehaviour>;
}

/** Snapshot form of one portal. */
export interface PortalState extends PortalIdentity {
  userId: number;
  tokens: {
    token: string;
    tokenType: TokenType;
    scopes: string[];
    appId: number;
    revoked: boolean;
    createdAt: string;
    expiresAt?: number;
  }[];
  limits: { tenSecondly: number; daily: number; searchPerSecond: number; dailyUsed: number; dailyResetsAt: number };
  properties: PropertyStoreState;
  contacts: ContactStoreState;
  /** Absent in snapshots written before lists existed. */
  lists?: ListStoreState;
  /** Absent in snapshots written before the switches existed: defaults apply. */
  behaviour?: AccountBehaviour;
}

export interface AccountsState {
  nextPortalId: number;
  nextAppId: number;
  portals: PortalState[];
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const FIRST_PORTAL_ID = 20_000_001;
const FIRST_APP_ID = 3_000_001;

export function newToken(type: TokenType): string {
  return `${type === 'service-key' ? 'sk' : 'pat'}-na1-${randomUUID()}`;
}

export class AccountStore {
  readonly portals = new Map<number, Portal>();
  readonly tokens = new Map<string, TokenRecord>();
  private nextPortalId = FIRST_PORTAL_ID;
  private nextAppId = FIRST_APP_ID;

  private readonly behaviourDefaults: AccountBehaviour;

  constructor(private readonly options: AccountsOptions) {
    this.behaviourDefaults = mergeBehaviour(DEFAULT_BEHAVIOUR, options.behaviourDefaults);
  }

  create(opts: CreateAccountOptions = {}): CreatedAccount {
    const tier = opts.tier ?? 'free';
    if (!TIERS.includes(tier)) throw new AdminError(400, `Unknown tier "${String(tier)}"; use one of ${TIERS.join(', ')}`);
    const timeZone = opts.timeZone ?? 'US/Eastern';
    try {
      assertTimeZone(timeZone);
    } catch {
      throw new AdminError(400, `Unknown time zone "${timeZone}"`);
    }
    const tokenType = opts.tokenType ?? 'private-app';
    if (tokenType !== 'private-app' && tokenType !== 'service-key') throw new AdminError(400, `Unknown tokenType "${String(tokenType)}"`);
    if (opts.scopes !== undefined && (!Array.isArray(opts.scopes) || opts.scopes.some((s) => typeof s !== 'string'))) {
      throw new AdminError(400, 'scopes must be an array of strings');
    }
    const behaviour = mergeBehaviour(this.behaviourDefaults, opts.behaviour);
    const apiAddOn = normalisePacks(opts.apiAddOn);
    const limits = limitsFor(tier, apiAddOn, this.options.tierLimits);
    const portalId = this.nextPortalId++;
    const portal: Portal = {
      portalId,
      tier,
      apiAddOn,
      timeZone,
      label: opts.label,
      createdAt: new Date(this.options.clock()).toISOString(),
      userId: 5_000_000 + (portalId % 1_000_000),
      tokens: [],
      properties: new PropertyStore(),
      contacts: new ContactStore(),
      lists: new ListStore(),
      limiter: new PortalRateLimiter({ ...limits, searchPerSecond: this.options.searchPerSecond, timeZone, now: this.options.clock() }),
      behaviour,
    };
    this.portals.set(portalId, portal);
    const rec = this.addToken(portalId, { tokenType, scopes: opts.scopes });
    return { portalId, token: rec.token, tokenType, tier, apiAddOn, scopes: [...rec.scopes], timeZone };
  }

  portal(portalId: number): Portal {
    const p = this.portals.get(portalId);
    if (!p) throw new AdminError(404, `No portal ${portalId}`);
    return p;
  }

  addToken(portalId: number, opts: { tokenType?: TokenType; scopes?: string[] } = {}): TokenRecord {
    const portal = this.portal(portalId);
    const tokenType = opts.tokenType ?? 'private-app';
    const scopes = new Set(opts.scopes ?? portal.tokens[0]?.scopes ?? DEFAULT_SCOPES);
    const rec: TokenRecord = {
      token: newToken(tokenType),
      tokenType,
      scopes,
      appId: this.nextAppId++,
      revoked: false,
      createdAt: new Date(this.options.clock()).toISOString(),
      portal,
    };
    portal.tokens.push(rec);
    this.tokens.set(rec.token, rec);
    return rec;
  }

  /** Revokes a token of this portal; false when the portal has no such token. */
  revoke(portalId: number, token: string): boolean {
    const rec = this.tokens.get(token);
    if (!rec || rec.portal.portalId !== portalId) return false;
    rec.revoked = true;
    return true;
  }

  /** Revokes `token` and issues a new one for the same app (same scopes and app id). */
  rotate(portalId: number, token: string): TokenRecord {
    const old = this.tokens.get(token);
    if (!old || old.portal.portalId !== portalId) throw new AdminError(404, `Portal ${portalId} has no such token`);
    old.revoked = true;
    const rec: TokenRecord = {
      ...old,
      token: newToken(old.tokenType),
      revoked: false,
      createdAt: new Date(this.options.clock()).toISOString(),
    };
    old.portal.tokens.push(rec);
    this.tokens.set(rec.token, rec);
    return rec;
  }

  /** Makes a token of this portal expire at `at` (epoch ms). */
  expire(portalId: number, token: string, at: number): void {
    const rec = this.tokens.get(token);
    if (!rec || rec.portal.portalId !== portalId) throw new AdminError(404, `Portal ${portalId} has no such token`);
    rec.expiresAt = at;
  }

  /** The live token record for a bearer token; throws HubSpot's 401 for unknown, revoked or expired tokens. */
  authenticate(token: string | undefined, now: number): TokenRecord {
    const rec = token === undefined ? undefined : this.tokens.get(token);
    if (!rec || rec.revoked) throw unauthorized();
    if (rec.expiresAt !== undefined && now >= rec.expiresAt) throw expiredToken(rec.expiresAt, now);
    return rec;
  }

  info(p: Portal, now = this.options.clock()): AccountInfo {
    return {
      ...identityOf(p),
      tokens: p.tokens.map((t) => ({ tokenType: t.tokenType, scopes: [...t.scopes], revoked: t.revoked, appId: t.appId })),
      behaviour: p.behaviour,
      contactCount: p.contacts.count,
      limits: p.limiter.info(now),
    };
  }

  clear(): void {
    this.portals.clear();
    this.tokens.clear();
    this.nextPortalId = FIRST_PORTAL_ID;
    this.nextAppId = FIRST_APP_ID;
  }

  toState(): AccountsState {
    return {
      nextPortalId: this.nextPortalId,
      nextAppId: this.nextAppId,
      portals: [...this.portals.values()].map((p) => ({
        ...identityOf(p),
        userId: p.userId,
        tokens: p.tokens.map((t) => ({
          token: t.token,
          tokenType: t.tokenType,
          scopes: [...t.scopes],
          appId: t.appId,
          revoked: t.revoked,
          createdAt: t.createdAt,
          expiresAt: t.expiresAt,
        })),
        limits: {
          tenSecondly: p.limiter.tenSecondly,
          daily: p.limiter.daily,
          searchPerSecond: p.limiter.searchPerSecond,
          dailyUsed: p.limiter.dailyUsed,
          dailyResetsAt: p.limiter.resetsAt(this.options.clock()),
        },
        properties: p.properties.toState(),
        contacts: p.contacts.toState(),
        lists: p.lists.toState(),
        behaviour: p.behaviour,
      })),
    };
  }

  load(state: AccountsState): void {
    this.clear();
    this.nextPortalId = state.nextPortalId;
    this.nextAppId = state.nextAppId;
    for (const s of state.portals) {
      const portal: Portal = {
        portalId: s.portalId,
        tier: s.tier,
        apiAddOn: s.apiAddOn,
        timeZone: s.timeZone,
        label: s.label,
        createdAt: s.createdAt,
        userId: s.userId,
        tokens: [],
        properties: new PropertyStore(s.properties),
        contacts: new ContactStore(s.contacts),
        lists: new ListStore(s.lists),
        limiter: new PortalRateLimiter({ ...s.limits, timeZone: s.timeZone, now: this.options.clock() }),
        behaviour: mergeBehaviour(this.behaviourDefaults, s.behaviour),
      };
      // Usage survives a restart within the same day only.
      if (this.options.clock() < s.limits.dailyResetsAt) portal.limiter.dailyUsed = s.limits.dailyUsed;
      for (const t of s.tokens) {
        const rec: TokenRecord = { ...t, scopes: new Set(t.scopes), portal };
        portal.tokens.push(rec);
        this.tokens.set(rec.token, rec);
      }
      this.portals.set(portal.portalId, portal);
    }
  }
}
