/**
 * `SimAdmin`: the in-process control surface of the simulator. The HTTP admin API under `/__sim` is a
 * thin layer over the same methods. Admin calls never touch HubSpot request stats or rate limits.
 */
import { validateFaults, type Faults } from './faults';
import { listPage } from './routes/paging';
import type { SimState } from './routes/types';
import { AdminError, type AccountStore, type Portal } from './state/accounts';
import { contactJson } from './state/contacts';
import { normaliseEmail } from './state/values';
import type { Stats } from './stats';
import { mergeBehaviour } from './state/behaviour';
import type {
  AccountBehaviour,
  AccountInfo,
  ContactJson,
  ContactPage,
  CreateAccountOptions,
  CreatedAccount,
  FaultConfig,
  LimitsInfo,
  LimitsInput,
  PropertyJson,
  SimSettings,
  StatsSnapshot,
  TokenType,
} from './types';

export { AdminError };

export interface SimAdminHooks {
  /** Writes the snapshot now (no-op without a snapshot path). */
  saveSnapshot(): Promise<void>;
  markDirty(): void;
}

function positiveOrThrow(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new AdminError(400, `${name} must be a non-negative number`);
  return v;
}

export class SimAdmin {
  private readonly accounts: AccountStore;
  private readonly faults: Faults;
  private readonly statsStore: Stats;
  private readonly settings: SimSettings;
  private readonly clock: () => number;

  constructor(
    state: SimState,
    private readonly hooks: SimAdminHooks,
  ) {
    this.clock = state.clock;
    this.accounts = state.accounts;
    this.faults = state.faults;
    this.statsStore = state.stats;
    this.settings = state.settings;
  }

  createAccount(options: CreateAccountOptions = {}): CreatedAccount {
    const created = this.accounts.create(options);
    this.hooks.markDirty();
    return created;
  }

  listAccounts(): AccountInfo[] {
    return [...this.accounts.portals.values()].map((p) => this.accounts.info(p));
  }

  getAccount(portalId: number): AccountInfo {
    return this.accounts.info(this.portal(portalId));
  }

  /** The first account with this label (e.g. the demo account after a restart). */
  findAccountByLabel(label: string): AccountInfo | undefined {
    for (const p of this.accounts.portals.values()) if (p.label === label) return this.accounts.info(p);
    return undefined;
  }

  /** A live token of the portal (the newest), for the CLI to print the demo account's token again. */
  activeToken(portalId: number): string | undefined {
    const live = this.portal(portalId).tokens.filter((t) => !t.revoked);
    return live[live.length - 1]?.token;
  }

  addToken(
    portalId: number,
    options: { tokenType?: TokenType; scopes?: string[] } = {},
  ): { token: string; tokenType: TokenType; scopes: string[]; appId: number } {
    if (options.tokenType !== undefined && options.tokenType !== 'private-app' && options.tokenType !== 'service-key') {
      throw new AdminError(400, `Unknown tokenType "${String(options.tokenType)}"`);
    }
    const rec = this.accounts.addToken(portalId, options);
    this.hooks.markDirty();
    return { token: rec.token, tokenType: rec.tokenType, scopes: [...rec.scopes], appId: rec.appId };
  }

  revokeToken(portalId: number, token: string): void {
    this.portal(portalId);
    if (!this.accounts.revoke(portalId, token)) throw new AdminError(404, `Portal ${portalId} has no such token`);
    this.hooks.markDirty();
  }

  /** Makes the token expire (now, or `at`): it then answers 401 EXPIRED_AUTHENTICATION. */
  expireToken(portalId: number, token: string, at?: string): void {
    const when = at === undefined ? this.clock() : Date.parse(at);
    if (!Number.isFinite(when)) throw new AdminError(400, 'at must be an ISO-8601 time');
    this.accounts.expire(portalId, token, when);
    this.hooks.markDirty();
  }

  /** Revokes the token and returns its replacement (same app, same scopes). */
  rotateToken(portalId: number, token: string): { token: string } {
    const rec = this.accounts.rotate(portalId, token);
    this.hooks.markDirty();
    return { token: rec.token };
  }

  /** Contacts with every stored property, in id order, HubSpot's list shape. */
  listContacts(
    portalId: number,
    options: { limit?: number; after?: string } = {},
    linkBase = `/__sim/accounts/${portalId}/contacts`,
  ): ContactPage {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new AdminError(400, 'limit must be an integer from 1 to 10000');
    try {
      return listPage(this.portal(portalId).contacts, { limit, after: options.after, archived: false, linkBase });
    } catch (e) {
      if (e instanceof AdminError) throw e;
      throw new AdminError(400, (e as Error).message);
    }
  }

  /** The contact whose primary or additional email is `email` (case-insensitive). */
  getContact(portalId: number, email: string): ContactJson | undefined {
    const e = normaliseEmail(email) ?? email.trim().toLowerCase();
    const c = this.portal(portalId).contacts.byEmailAddress(e);
    return c ? contactJson(c) : undefined;
  }

  contactCount(portalId: number): number {
    return this.portal(portalId).contacts.count;
  }

  /** The portal's lists with their live member record ids (ascending), for tests and benchmarks. */
  lists(portalId: number): Array<{ listId: string; name: string; processingType: string; members: string[] }> {
    const p = this.portal(portalId);
    return p.lists.toState().lists.map((l) => ({
      listId: String(l.listId),
      name: l.name,
      processingType: l.processingType,
      members: l.members
        .filter((id) => p.contacts.get(id))
        .sort((a, b) => a - b)
        .map(String),
    }));
  }

  /** Creates a list as a HubSpot user would (e.g. a DYNAMIC list with the name an integration wants). */
  createList(portalId: number, def: { name: string; processingType: 'MANUAL' | 'SNAPSHOT' | 'DYNAMIC' }): { listId: string } {
    const p = this.portal(portalId);
    if (p.lists.nameTaken(def.name)) throw new AdminError(409, `A list named '${def.name}' already exists.`);
    const l = p.lists.create(
      { name: def.name, objectTypeId: '0-1', processingType: def.processingType },
      new Date(this.clock()).toISOString(),
    );
    this.hooks.markDirty();
    return { listId: String(l.listId) };
  }

  /** HubSpot's contact merge, as a user does it in HubSpot (same semantics as `POST …/contacts/merge`). */
  mergeContacts(portalId: number, primaryId: string, otherId: string): void {
    const p = this.portal(portalId);
    const primary = p.contacts.get(Number(primaryId));
    const other = p.contacts.get(Number(otherId));
    if (!primary || !other || primary === other) throw new AdminError(400, 'Merge needs two different live contact ids');
    p.contacts.merge(primary, other, new Date(this.clock()).toISOString());
    p.lists.moveMember(other.id, primary.id);
    this.hooks.markDirty();
  }

  listProperties(portalId: number, options: { archived?: boolean } = {}): PropertyJson[] {
    return this.portal(portalId).properties.list(options.archived ?? false);
  }

  /** The account's switches for answers HubSpot leaves open (see AccountBehaviour). */
  getBehaviour(portalId: number): AccountBehaviour {
    return { ...this.portal(portalId).behaviour };
  }

  /** Changes the given switches only; unknown keys or bad values → AdminError 400. */
  setBehaviour(portalId: number, behaviour: Partial<AccountBehaviour>): AccountBehaviour {
    const p = this.portal(portalId);
    p.behaviour = mergeBehaviour(p.behaviour, behaviour);
    this.hooks.markDirty();
    return { ...p.behaviour };
  }

  getLimits(portalId: number): LimitsInfo {
    return this.portal(portalId).limiter.info(this.clock());
  }

  /** Very high values effectively switch a limit off (benchmarks do that). */
  setLimits(portalId: number, limits: LimitsInput): LimitsInfo {
    const limiter = this.portal(portalId).limiter;
    if (limits === null || typeof limits !== 'object') throw new AdminError(400, 'limits must be a JSON object');
    if (limits.tenSecondly !== undefined) limiter.tenSecondly = positiveOrThrow('tenSecondly', limits.tenSecondly);
    if (limits.daily !== undefined) limiter.daily = positiveOrThrow('daily', limits.daily);
    if (limits.searchPerSecond !== undefined) limiter.searchPerSecond = positiveOrThrow('searchPerSecond', limits.searchPerSecond);
    if (limits.dailyResetsAt !== undefined) {
      if (limits.dailyResetsAt === null) limiter.setDailyResetsAt(null, this.clock());
      else {
        const at = Date.parse(limits.dailyResetsAt);
        if (!Number.isFinite(at)) throw new AdminError(400, 'dailyResetsAt must be an ISO-8601 time');
        limiter.setDailyResetsAt(at, this.clock());
      }
    }
    this.hooks.markDirty();
    return limiter.info(this.clock());
  }

  /** Replaces the fault configuration; `{}` clears it. */
  setFaults(faults: FaultConfig): FaultConfig {
    this.faults.set(validateFaults(faults));
    return this.faults.get();
  }

  getFaults(): FaultConfig {
    return this.faults.get();
  }

  clearFaults(): void {
    this.faults.set({});
  }

  getSettings(): SimSettings {
    return { ...this.settings };
  }

  setSettings(settings: Partial<SimSettings>): SimSettings {
    if (settings === null || typeof settings !== 'object') throw new AdminError(400, 'settings must be a JSON object');
    if (settings.retryAfter !== undefined) {
      if (typeof settings.retryAfter !== 'boolean') throw new AdminError(400, 'retryAfter must be a boolean');
      this.settings.retryAfter = settings.retryAfter;
    }
    return this.getSettings();
  }

  stats(): StatsSnapshot {
    return this.statsStore.snapshot();
  }

  resetStats(): void {
    this.statsStore.reset();
  }

  /** Clears accounts, contacts, stats and faults. */
  reset(): void {
    this.accounts.clear();
    this.statsStore.reset();
    this.faults.set({});
    this.hooks.markDirty();
  }

  saveSnapshot(): Promise<void> {
    return this.hooks.saveSnapshot();
  }

  private portal(portalId: number): Portal {
    return this.accounts.portal(portalId);
  }
}
