/**
 * The HubSpot CRM client: a thin typed client, one method per endpoint, and with ./paths, ./errors and
 * ./rate-limit the only code that knows HubSpot's wire format (paths, auth header, bodies, status codes,
 * rate-limit headers). Every call is paced by the shared rate governor when one is given, retried per
 * ./retry, and every failure becomes a classified `HubSpotApiError`.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { RateGovernor, WaitInfo } from '../governor/governor';
import type { CallClass } from '../governor/policy';
import { classifyNetworkError, classifyResponse, HubSpotApiError } from './errors';
import { API_VERSION, hubspotPaths as paths, type ApiVersion, type Endpoint } from './paths';
import { parseRateLimitHeaders, parseRetryAfter } from './rate-limit';
import { BATCH_UPSERT_RETRY, DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry';
import type { ContactUpsertInput, HubSpotProperty, HubSpotPropertyCreate, HubSpotPropertyOption } from './types';

/** Keep-alive agents shared by every client in the process: batch upserts reuse connections. */
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });

export interface HubSpotCallEvent {
  route: string;
  method: string;
  status: number | 'network_error';
  durationMs: number;
  policy?: string;
}

export interface HubSpotClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs?: number;
  governor?: RateGovernor;
  /** Budget key of the HubSpot account (`portal:<id>`); pacing needs it. */
  accountKey?: string;
  signal?: AbortSignal;
  onCall?: (e: HubSpotCallEvent) => void;
  onRateWait?: (w: WaitInfo) => void;
  /** Attempts per call for transient faults and unexpected 429s (batch upserts take theirs per call). */
  attempts?: number;
  /** HubSpot API version of every call that has a versioned path (default `v3`; the app passes its configured one). */
  apiVersion?: ApiVersion;
}

export interface TokenInfo {
  userId?: number;
  hubId: number;
  appId?: number;
  scopes: string[];
}

export interface AccountDetails {
  portalId: number;
  timeZone: string;
  accountType?: string;
  uiDomain?: string;
  dataHostingLocation?: string;
}

export interface DailyUsage {
  usageLimit?: number;
  currentUsage?: number;
  resetsAt?: string;
}

export interface UpsertResultRecord {
  id: string;
  email?: string;
  isNew: boolean;
  objectWriteTraceId?: string;
}

export interface BatchRecordError {
  category?: string;
  code?: string;
  message: string;
  objectWriteTraceIds: string[];
  ids: string[];
}

export interface BatchUpsertResult {
  status: number;
  results: UpsertResultRecord[];
  errors: BatchRecordError[];
}

export interface ContactRecord {
  id: string;
  properties: Record<string, string | null>;
}

/** A list as the Lists API answers it (the fields the connector reads). */
export interface HubSpotList {
  listId: string;
  name: string;
  objectTypeId: string;
  processingType: 'MANUAL' | 'SNAPSHOT' | 'DYNAMIC' | string;
  size?: number;
}

/** A membership write's answer: record ids added, removed, and those HubSpot does not have (not written). */
export interface MembershipChange {
  added: string[];
  removed: string[];
  missing: string[];
}

/** Record ids one membership call carries at most (docs/hubspot-simulator.md, "Lists"). */
export const MAX_LIST_MEMBERSHIP_IDS = 100_000;

/** One contact to upsert, keyed by its (lowercased, trimmed) email. */
export interface ContactUpsert {
  email: string;
  properties: Record<string, string>;
  /** Echoed on the 207 per-record errors and results, so answers match inputs. */
  traceId?: string;
}

interface CallInit {
  body?: unknown;
  params?: Record<string, unknown>;
  cls?: CallClass;
  paced?: boolean;
  /** Retry policy (default: DEFAULT_RETRY with the client's `attempts`). */
  retry?: Partial<RetryPolicy>;
}

export class HubSpotClient {
  // ES-private (not enumerable): logging, inspecting or serializing a client never shows the token.
  readonly #token: string;
  readonly #http: AxiosInstance;
  private readonly options: Omit<HubSpotClientOptions, 'token'>;
  /** The API version of every versioned path this client calls. */
  readonly apiVersion: ApiVersion;

  constructor(clientOptions: HubSpotClientOptions) {
    const { token, ...options } = clientOptions;
    this.#token = token;
    this.options = options;
    this.apiVersion = options.apiVersion ?? API_VERSION;
    this.#http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs ?? 30_000,
      httpAgent,
      httpsAgent,
      validateStatus: () => true,
      // Tokens only in the header; axios errors would otherwise carry the config (and header) around.
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      maxRedirects: 0,
      transitional: { clarifyTimeoutError: true },
    });
  }

  /** One endpoint call under the retry policy. */
  private async call<T>(endpoint: Endpoint, init: CallInit = {}): Promise<AxiosResponse<T>> {
    const policy: RetryPolicy = {
      ...DEFAULT_RETRY,
      ...(this.options.attempts ? { attempts: this.options.attempts } : {}),
      signal: this.options.signal,
      ...init.retry,
    };
    return withRetry(() => this.send<T>(endpoint, init), policy);
  }

  /** One HTTP call: pace, send, observe headers, classify. */
  private async send<T>({ method, route, path }: Endpoint, init: CallInit): Promise<AxiosResponse<T>> {
    const { governor, accountKey } = this.options;
    const paced = init.paced !== false && governor && accountKey;
    const reservation = paced
      ? await governor.acquire(accountKey, { cls: init.cls, signal: this.options.signal, onWait: this.options.onRateWait })
      : undefined;
    const started = Date.now();
    let res: AxiosResponse<T>;
    try {
      res = await this.#http.request<T>({ method, url: path, data: init.body, params: init.params, signal: this.options.signal });
    } catch (err) {
      this.options.onCall?.({ route, method, status: 'network_error', durationMs: Date.now() - started });
      // No answer: the call may or may not have reached HubSpot; it counts as arrived now.
      if (paced) await governor.observe(accountKey, { status: 0, info: {}, reservation });
      throw classifyNetworkError(`${method} ${route}`, err as { code?: string; message?: string });
    }
    const info = parseRateLimitHeaders(res.headers);
    const retryAfterMs = parseRetryAfter(res.headers);
    let error: HubSpotApiError | undefined;
    if (res.status >= 300) error = classifyResponse(`${method} ${route}`, res.status, res.data, retryAfterMs);
    this.options.onCall?.({ route, method, status: res.status, durationMs: Date.now() - started, policy: error?.info.policy });
    if (paced) await governor.observe(accountKey, { status: res.status, info, reservation, policy: error?.info.policy, retryAfterMs });
    if (error) throw this.#withoutToken(error);
    return res;
  }

  /** HubSpot's own error text is quoted in messages; make sure it never quotes the token back. */
  #withoutToken(err: HubSpotApiError): HubSpotApiError {
    const scrub = (text: string): string => text.split(this.#token).join('[redacted]');
    if (!this.#token) return err;
    if (err.message.includes(this.#token)) err.message = scrub(err.message);
    if (err.info.body?.message?.includes(this.#token)) err.info.body.message = scrub(err.info.body.message);
    return err;
  }

  // ---- auth and account ----

  /** Token introspection for private-app tokens (https://developers.hubspot.com/docs/api/private-apps). Sends the token in body and header. */
  async getAccessTokenInfo(): Promise<TokenInfo> {
    const res = await this.call<TokenInfo>(paths.accessTokenInfo(), { body: { tokenKey: this.#token } });
    return { userId: res.data.userId, hubId: Number(res.data.hubId), appId: res.data.appId, scopes: res.data.scopes ?? [] };
  }

  async getAccountDetails(): Promise<AccountDetails> {
    const res = await this.call<AccountDetails>(paths.accountDetails(this.apiVersion));
    return res.data;
  }

  /** Daily usage; unpaced, because it is asked exactly when the daily budget is gone. */
  async getDailyUsage(): Promise<DailyUsage | undefined> {
    const res = await this.call<{ results?: DailyUsage[] }>(paths.dailyUsage(this.apiVersion), { paced: false });
    return res.data.results?.[0];
  }

  // ---- properties ----

  async listContactProperties(options: { archived?: boolean } = {}): Promise<HubSpotProperty[]> {
    const res = await this.call<{ results: HubSpotProperty[] }>(paths.listContactProperties(this.apiVersion), {
      params: options.archived ? { archived: true } : undefined,
    });
    return res.data.results;
  }

  async getContactProperty(name: string): Promise<HubSpotProperty | undefined> {
    try {
      const res = await this.call<HubSpotProperty>(paths.getContactProperty(name, this.apiVersion));
      return res.data;
    } catch (err) {
      if (err instanceof HubSpotApiError && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  async createContactProperty(def: HubSpotPropertyCreate): Promise<HubSpotProperty> {
    const res = await this.call<HubSpotProperty>(paths.createContactProperty(this.apiVersion), { body: def });
    return res.data;
  }

  async updateContactProperty(
    name: string,
    patch: { label?: string; description?: string; options?: HubSpotPropertyOption[]; groupName?: string },
  ): Promise<HubSpotProperty> {
    const res = await this.call<HubSpotProperty>(paths.updateContactProperty(name, this.apiVersion), { body: patch });
    return res.data;
  }

  async listPropertyGroups(): Promise<Array<{ name: string; label: string }>> {
    const res = await this.call<{ results: Array<{ name: string; label: string }> }>(paths.listPropertyGroups(this.apiVersion));
    return res.data.results;
  }

  async createPropertyGroup(group: { name: string; label: string; displayOrder?: number }): Promise<void> {
    await this.call(paths.createPropertyGroup(this.apiVersion), { body: group });
  }

  // ---- contacts ----

  /**
   * Batch upsert keyed by email (≤ 100 contacts). 200 and 207 resolve (207 carries per-record errors,
   * matched by `objectWriteTraceId`); a 400 for the whole batch throws a `validation` HubSpotApiError so
   * the caller can isolate the bad record. Retries per BATCH_UPSERT_RETRY unless `retry` says otherwise.
   */
  async batchUpsertContacts(
    contacts: ContactUpsert[],
    options: { retry?: Partial<RetryPolicy>; idProperty?: string } = {},
  ): Promise<BatchUpsertResult> {
    if (contacts.length > 100) throw new Error('batchUpsertContacts takes at most 100 inputs.');
    // Keyed by email, or by a custom unique property (`idProperty`): then the id is the contact's value of it.
    const idProperty = options.idProperty ?? 'email';
    const inputs: ContactUpsertInput[] = contacts.map((c) => ({
      id: idProperty === 'email' ? c.email : (c.properties[idProperty] ?? ''),
      idProperty,
      properties: idProperty === 'email' ? withoutIdentityEmail(c) : c.properties,
      ...(c.traceId === undefined ? {} : { objectWriteTraceId: c.traceId }),
    }));
    const res = await this.call<{
      results?: Array<{ id: string; properties?: Record<string, string>; new?: boolean; objectWriteTraceId?: string }>;
      errors?: Array<{ category?: string; message?: string; context?: Record<string, unknown>; errors?: Array<{ code?: string }> }>;
    }>(paths.batchUpsertContacts(this.apiVersion), { body: { inputs }, retry: { ...BATCH_UPSERT_RETRY, ...options.retry } });
    const toStrings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
    return {
      status: res.status,
      results: (res.data.results ?? []).map((r) => ({
        id: r.id,
        email: r.properties?.email,
        isNew: r.new === true,
        objectWriteTraceId: r.objectWriteTraceId,
      })),
      errors: (res.data.errors ?? []).map((e) => ({
        category: e.category,
        code: e.errors?.[0]?.code ?? codeFromMessage(e.message),
        message: e.message ?? 'HubSpot rejected the record.',
        objectWriteTraceIds: toStrings(e.context?.objectWriteTraceId),
        ids: toStrings(e.context?.ids),
      })),
    };
  }

  /**
   * Batch update by record id (≤ 100), e.g. exits written without the email. 200, or 207 whose errors
   * name the ids HubSpot does not have (`missingIds`); every other input was updated.
   */
  async batchUpdateContactsById(
    inputs: Array<{ id: string; properties: Record<string, string> }>,
  ): Promise<{ updatedIds: string[]; missingIds: string[] }> {
    if (inputs.length > 100) throw new Error('batchUpdateContactsById takes at most 100 inputs.');
    const res = await this.call<{
      results?: Array<{ id: string }>;
      errors?: Array<{ category?: string; context?: Record<string, unknown> }>;
    }>(paths.batchUpdateContacts(this.apiVersion), { body: { inputs } });
    const missing = new Set<string>();
    for (const e of res.data.errors ?? []) {
      const ids = e.context?.ids;
      if (Array.isArray(ids)) for (const id of ids) missing.add(String(id));
    }
    return { updatedIds: (res.data.results ?? []).map((r) => String(r.id)), missingIds: [...missing] };
  }

  /** Batch read by email; missing emails are simply absent from the answer. */
  async batchReadContactsByEmail(emails: string[], properties: string[]): Promise<ContactRecord[]> {
    const res = await this.call<{ results?: ContactRecord[] }>(paths.batchReadContacts(this.apiVersion), {
      body: { idProperty: 'email', inputs: emails.map((id) => ({ id })), properties, propertiesWithHistory: [] },
    });
    return res.data.results ?? [];
  }

  /**
   * Batch read (≤ 100) by a unique property (`email`, or a custom `hasUniqueValue` one; `idProperty`
   * omitted = record ids). Ids HubSpot does not have are simply absent (it answers 207 naming them).
   */
  async batchReadContacts(ids: string[], options: { idProperty?: string; properties: string[] }): Promise<ContactRecord[]> {
    if (ids.length > 100) throw new Error('batchReadContacts takes at most 100 ids.');
    const res = await this.call<{ results?: ContactRecord[] }>(paths.batchReadContacts(this.apiVersion), {
      body: {
        ...(options.idProperty && options.idProperty !== 'hs_object_id' ? { idProperty: options.idProperty } : {}),
        inputs: ids.map((id) => ({ id })),
        properties: options.properties,
        propertiesWithHistory: [],
      },
    });
    return res.data.results ?? [];
  }

  /**
   * Batch create (≤ 100): 201, or 207 with per-record errors (trace ids, HubSpot's multi-status) for
   * records it refused, e.g. an email another contact holds (`category: CONFLICT`). Without multi-status
   * an existing email fails the whole batch with 409 (`conflict` HubSpotApiError, naming the first one)
   * and a bad value with 400 (`validation`).
   */
  async batchCreateContacts(inputs: Array<{ properties: Record<string, string>; traceId?: string }>): Promise<BatchUpsertResult> {
    if (inputs.length > 100) throw new Error('batchCreateContacts takes at most 100 inputs.');
    const res = await this.call<{
      results?: Array<{ id: string; properties?: Record<string, string | null>; objectWriteTraceId?: string }>;
      errors?: Array<{ category?: string; message?: string; context?: Record<string, unknown>; errors?: Array<{ code?: string }> }>;
    }>(paths.batchCreateContacts(this.apiVersion), {
      body: {
        inputs: inputs.map((c) => ({
          properties: c.properties,
          associations: [],
          ...(c.traceId === undefined ? {} : { objectWriteTraceId: c.traceId }),
        })),
      },
    });
    const toStrings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
    return {
      status: res.status,
      results: (res.data.results ?? []).map((r) => ({
        id: r.id,
        email: r.properties?.email ?? undefined,
        isNew: true,
        objectWriteTraceId: r.objectWriteTraceId,
      })),
      errors: (res.data.errors ?? []).map((e) => ({
        category: e.category,
        code: e.category === 'CONFLICT' ? 'CONFLICT' : (e.errors?.[0]?.code ?? codeFromMessage(e.message)),
        message: e.message ?? 'HubSpot refused the record.',
        objectWriteTraceIds: toStrings(e.context?.objectWriteTraceId),
        ids: toStrings(e.context?.ids),
      })),
    };
  }

  /**
   * The contact a merged-away record id now lives in: search on `hs_merged_object_ids` (which lists chained
   * merges too). Undefined when no contact holds it (the record was archived or deleted).
   */
  async searchContactByMergedId(recordId: string, properties: string[]): Promise<ContactRecord | undefined> {
    const res = await this.call<{ results?: ContactRecord[] }>(paths.searchContacts(this.apiVersion), {
      cls: 'search',
      body: {
        filterGroups: [{ filters: [{ propertyName: 'hs_merged_object_ids', operator: 'CONTAINS_TOKEN', value: recordId }] }],
        properties: [...new Set(['hs_merged_object_ids', ...properties])],
        limit: 10,
      },
    });
    // CONTAINS_TOKEN matches tokens; keep only an exact id among the `;`-separated ones.
    return res.data.results?.find((c) => (c.properties.hs_merged_object_ids ?? '').split(';').includes(recordId));
  }

  // ---- lists ----

  /** Creates a list (`processingType` MANUAL for the connector's own lists). */
  async createList(def: { name: string; objectTypeId: string; processingType: 'MANUAL' | 'SNAPSHOT' | 'DYNAMIC' }): Promise<HubSpotList> {
    const res = await this.call<{ list: HubSpotList }>(paths.createList(this.apiVersion), { body: def });
    return listOf(res.data.list);
  }

  /** The list of that name for the object type (names are unique per portal), or undefined. */
  async getListByName(name: string, objectTypeId = '0-1'): Promise<HubSpotList | undefined> {
    try {
      const res = await this.call<{ list: HubSpotList }>(paths.getListByName(objectTypeId, name, this.apiVersion));
      return listOf(res.data.list);
    } catch (err) {
      if (err instanceof HubSpotApiError && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  /** The list with that id, or undefined (deleted). */
  async getList(listId: string): Promise<HubSpotList | undefined> {
    try {
      const res = await this.call<{ list: HubSpotList }>(paths.getList(listId, this.apiVersion));
      return listOf(res.data.list);
    } catch (err) {
      if (err instanceof HubSpotApiError && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  /** Adds records by id (≤ MAX_LIST_MEMBERSHIP_IDS); ids HubSpot does not have come back as `missing`. */
  async addListMembers(listId: string, recordIds: string[]): Promise<MembershipChange> {
    checkMembershipSize(recordIds.length);
    const res = await this.call<MembershipAnswer>(paths.addListMembers(listId, this.apiVersion), { body: recordIds });
    return membershipChange(res.data);
  }

  /** Removes records by id (≤ MAX_LIST_MEMBERSHIP_IDS). */
  async removeListMembers(listId: string, recordIds: string[]): Promise<MembershipChange> {
    checkMembershipSize(recordIds.length);
    const res = await this.call<MembershipAnswer>(paths.removeListMembers(listId, this.apiVersion), { body: recordIds });
    return membershipChange(res.data);
  }

  /** Adds and removes in one call (≤ MAX_LIST_MEMBERSHIP_IDS ids in all). */
  async addAndRemoveListMembers(listId: string, change: { add: string[]; remove: string[] }): Promise<MembershipChange> {
    checkMembershipSize(change.add.length + change.remove.length);
    const res = await this.call<MembershipAnswer>(paths.addAndRemoveListMembers(listId, this.apiVersion), {
      body: { recordIdsToAdd: change.add, recordIdsToRemove: change.remove },
    });
    return membershipChange(res.data);
  }

  /** One page of a list's member record ids (ascending), and the cursor of the next page. */
  async listMemberships(
    listId: string,
    options: { after?: string; limit?: number } = {},
  ): Promise<{ recordIds: string[]; after?: string }> {
    const res = await this.call<{ results?: Array<{ recordId: string | number }>; paging?: { next?: { after?: string } } }>(
      paths.listMemberships(listId, this.apiVersion),
      { params: { limit: options.limit ?? 250, ...(options.after ? { after: options.after } : {}) } },
    );
    return { recordIds: (res.data.results ?? []).map((r) => String(r.recordId)), after: res.data.paging?.next?.after };
  }

  /** Search by exact email (its own per-second limit at HubSpot, paced separately). */
  async searchContactByEmail(email: string, properties: string[]): Promise<ContactRecord | undefined> {
    const res = await this.call<{ results?: ContactRecord[] }>(paths.searchContacts(this.apiVersion), {
      cls: 'search',
      body: { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email }] }], properties, limit: 1 },
    });
    return res.data.results?.[0];
  }
}

/**
 * The upsert's properties without `email` when it is the id: HubSpot creates a new contact with the id as
 * its email anyway, and an email matching an existing contact's additional email must not become that
 * contact's primary email (docs/decisions.md 22).
 */
function withoutIdentityEmail(c: ContactUpsert): Record<string, string> {
  if (c.properties.email === undefined || c.properties.email.toLowerCase() !== c.email.toLowerCase()) return c.properties;
  const { email: _identity, ...rest } = c.properties;
  return rest;
}

interface MembershipAnswer {
  recordIdsMissing?: Array<string | number>;
  recordIdsRemoved?: Array<string | number>;
  /** HubSpot's spelling (the spec's MembershipsUpdateResponse); `recordIdsAdded` is accepted too. */
  recordsIdsAdded?: Array<string | number>;
  recordIdsAdded?: Array<string | number>;
}

function membershipChange(a: MembershipAnswer): MembershipChange {
  const ids = (v: Array<string | number> | undefined) => (v ?? []).map(String);
  return { added: ids(a.recordsIdsAdded ?? a.recordIdsAdded), removed: ids(a.recordIdsRemoved), missing: ids(a.recordIdsMissing) };
}

function checkMembershipSize(n: number): void {
  if (n > MAX_LIST_MEMBERSHIP_IDS) throw new Error(`A membership call takes at most ${MAX_LIST_MEMBERSHIP_IDS} record ids (got ${n}).`);
}

function listOf(l: HubSpotList): HubSpotList {
  return { listId: String(l.listId), name: l.name, objectTypeId: l.objectTypeId, processingType: l.processingType, size: l.size };
}

/**
 * 400 bodies embed per-property results as JSON in `message`; pull out the first `error` code
 * (INVALID_EMAIL, INVALID_OPTION, PROPERTY_DOESNT_EXIST, ...).
 */
export function codeFromMessage(message: string | undefined): string | undefined {
  if (!message) return undefined;
  const m = /"error"\s*:\s*"([A-Z_]+)"/.exec(message);
  return m?.[1];
}

/** What HubSpot said about a whole-batch 400: its code (structured `errors[].code` first, then the JSON-in-message) and message. */
export function validationDetail(err: HubSpotApiError): { code?: string; message: string } {
  return {
    code: err.info.body?.errors?.[0]?.code ?? codeFromMessage(err.info.body?.message),
    message: err.info.body?.message ?? err.message,
  };
}

/** One property value a whole-batch 400 names: the property, HubSpot's code and its message (which often quotes the value). */
export interface NamedProblem {
  property: string;
  code?: string;
  message: string;
}

/**
 * The property problems a "Property values were not valid" 400 lists: the JSON embedded in `message`
 * (`[{isValid, message, error, name, …}]`) first, else the structured `errors[]` with
 * `context.propertyName` (https://developers.hubspot.com/docs/api-reference/error-handling). Empty when
 * the answer names no property.
 */
export function namedProblems(err: HubSpotApiError): NamedProblem[] {
  const body = err.info.body;
  const text = body?.message ?? '';
  const start = text.indexOf('[');
  if (/Property values were not valid/i.test(text) && start >= 0) {
    try {
      const list = JSON.parse(text.slice(start)) as unknown;
      if (Array.isArray(list)) {
        const out: NamedProblem[] = [];
        for (const p of list as Array<Record<string, unknown>>) {
          if (p && typeof p.name === 'string' && typeof p.message === 'string')
            out.push({ property: p.name, code: typeof p.error === 'string' ? p.error : undefined, message: p.message });
        }
        if (out.length) return out;
      }
    } catch {
      // Not the JSON HubSpot documents: fall through to errors[].
    }
  }
  const out: NamedProblem[] = [];
  for (const e of body?.errors ?? []) {
    const names = e.context?.propertyName;
    const name = Array.isArray(names) ? names[0] : undefined;
    if (typeof name === 'string' && e.message) out.push({ property: name, code: e.code, message: e.message });
  }
  return out;
}
