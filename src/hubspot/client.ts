/**
 * The HubSpot CRM client: the only module that knows HubSpot's wire format (paths, auth header, bodies,
 * status codes, rate-limit headers). Every call is paced by the shared rate governor when one is given,
 * and every failure becomes a classified `HubSpotApiError`.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { RateGovernor, WaitInfo } from '../governor/governor';
import type { CallClass } from '../governor/policy';
import { classifyNetworkError, classifyResponse, HubSpotApiError } from './errors';
import { parseRateLimitHeaders, parseRetryAfter } from './rate-limit';
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
  /** Attempts per call for transient faults and unexpected 429s (batch upserts excepted). */
  attempts?: number;
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

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface CallInit {
  body?: unknown;
  params?: Record<string, unknown>;
  cls?: CallClass;
  paced?: boolean;
  /** Total attempts for retryable failures (default: the client's `attempts`, else 4). */
  attempts?: number;
}

export class HubSpotClient {
  // ES-private (not enumerable): logging, inspecting or serializing a client never shows the token.
  readonly #token: string;
  readonly #http: AxiosInstance;
  private readonly options: Omit<HubSpotClientOptions, 'token'>;

  constructor(clientOptions: HubSpotClientOptions) {
    const { token, ...options } = clientOptions;
    this.#token = token;
    this.options = options;
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

  /** One HTTP call: pace, send, observe headers, classify. `route` is the path template (for metrics and errors). */
  /**
   * A call with a few quick retries of transient faults and unexpected 429s (the governor paces them);
   * DAILY 429s and final errors are thrown at once. Batch upserts retry in the delivery layer instead.
   */
  private async call<T>(method: Method, route: string, url: string, init: CallInit = {}): Promise<AxiosResponse<T>> {
    const attempts = init.attempts ?? this.options.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send<T>(method, route, url, init);
      } catch (err) {
        const retry = err instanceof HubSpotApiError && err.retryable && err.info.policy !== 'DAILY' && attempt < attempts;
        if (!retry) throw err;
        const backoff = err.kind === 'rate_limit' ? (err.info.retryAfterMs ?? 0) : 250 * 2 ** (attempt - 1);
        if (backoff > 0) await new Promise((r) => setTimeout(r, backoff / 2 + Math.random() * (backoff / 2)));
      }
    }
  }

  /** One HTTP call: pace, send, observe headers, classify. */
  private async send<T>(method: Method, route: string, url: string, init: CallInit): Promise<AxiosResponse<T>> {
    const { governor, accountKey } = this.options;
    const paced = init.paced !== false && governor && accountKey;
    const reservation = paced
      ? await governor.acquire(accountKey, { cls: init.cls, signal: this.options.signal, onWait: this.options.onRateWait })
      : undefined;
    const started = Date.now();
    let res: AxiosResponse<T>;
    try {
      res = await this.#http.request<T>({ method, url, data: init.body, params: init.params, signal: this.options.signal });
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

  /** Token introspection for private-app tokens (reference §2.4). Sends the token in body and header. */
  async getAccessTokenInfo(): Promise<TokenInfo> {
    const res = await this.call<TokenInfo>(
      'POST',
      '/oauth/v2/private-apps/get/access-token-info',
      '/oauth/v2/private-apps/get/access-token-info',
      {
        body: { tokenKey: this.#token },
      },
    );
    return { userId: res.data.userId, hubId: Number(res.data.hubId), appId: res.data.appId, scopes: res.data.scopes ?? [] };
  }

  async getAccountDetails(): Promise<AccountDetails> {
    const res = await this.call<AccountDetails>('GET', '/account-info/v3/details', '/account-info/v3/details');
    return res.data;
  }

  /** Daily usage; unpaced, because it is asked exactly when the daily budget is gone. */
  async getDailyUsage(): Promise<DailyUsage | undefined> {
    const res = await this.call<{ results?: DailyUsage[] }>(
      'GET',
      '/account-info/v3/api-usage/daily/private-apps',
      '/account-info/v3/api-usage/daily/private-apps',
      { paced: false },
    );
    return res.data.results?.[0];
  }

  // ---- properties ----

  async listContactProperties(options: { archived?: boolean } = {}): Promise<HubSpotProperty[]> {
    const res = await this.call<{ results: HubSpotProperty[] }>('GET', '/crm/v3/properties/contacts', '/crm/v3/properties/contacts', {
      params: options.archived ? { archived: true } : undefined,
    });
    return res.data.results;
  }

  async getContactProperty(name: string): Promise<HubSpotProperty | undefined> {
    try {
      const res = await this.call<HubSpotProperty>(
        'GET',
        '/crm/v3/properties/contacts/{propertyName}',
        `/crm/v3/properties/contacts/${encodeURIComponent(name)}`,
      );
      return res.data;
    } catch (err) {
      if (err instanceof HubSpotApiError && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  async createContactProperty(def: HubSpotPropertyCreate): Promise<HubSpotProperty> {
    const res = await this.call<HubSpotProperty>('POST', '/crm/v3/properties/contacts', '/crm/v3/properties/contacts', { body: def });
    return res.data;
  }

  async updateContactProperty(
    name: string,
    patch: { label?: string; description?: string; options?: HubSpotPropertyOption[]; groupName?: string },
  ): Promise<HubSpotProperty> {
    const res = await this.call<HubSpotProperty>(
      'PATCH',
      '/crm/v3/properties/contacts/{propertyName}',
      `/crm/v3/properties/contacts/${encodeURIComponent(name)}`,
      { body: patch },
    );
    return res.data;
  }

  async listPropertyGroups(): Promise<Array<{ name: string; label: string }>> {
    const res = await this.call<{ results: Array<{ name: string; label: string }> }>(
      'GET',
      '/crm/v3/properties/contacts/groups',
      '/crm/v3/properties/contacts/groups',
    );
    return res.data.results;
  }

  async createPropertyGroup(group: { name: string; label: string; displayOrder?: number }): Promise<void> {
    await this.call('POST', '/crm/v3/properties/contacts/groups', '/crm/v3/properties/contacts/groups', { body: group });
  }

  // ---- contacts ----

  /**
   * `POST /crm/v3/objects/contacts/batch/upsert` keyed by email (≤ 100 inputs). 200 and 207 resolve
   * (207 carries per-record errors, matched by `objectWriteTraceId`); a 400 for the whole batch throws
   * a `validation` HubSpotApiError so the caller can isolate the bad record.
   */
  async batchUpsertContacts(inputs: ContactUpsertInput[]): Promise<BatchUpsertResult> {
    if (inputs.length > 100) throw new Error('batchUpsertContacts takes at most 100 inputs.');
    const res = await this.call<{
      results?: Array<{ id: string; properties?: Record<string, string>; new?: boolean; objectWriteTraceId?: string }>;
      errors?: Array<{ category?: string; message?: string; context?: Record<string, unknown>; errors?: Array<{ code?: string }> }>;
    }>('POST', '/crm/v3/objects/contacts/batch/upsert', '/crm/v3/objects/contacts/batch/upsert', { body: { inputs }, attempts: 1 });
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

  /** Batch read by email; missing emails are simply absent from the answer. */
  async batchReadContactsByEmail(emails: string[], properties: string[]): Promise<ContactRecord[]> {
    const res = await this.call<{ results?: ContactRecord[] }>(
      'POST',
      '/crm/v3/objects/contacts/batch/read',
      '/crm/v3/objects/contacts/batch/read',
      {
        body: { idProperty: 'email', inputs: emails.map((id) => ({ id })), properties, propertiesWithHistory: [] },
      },
    );
    return res.data.results ?? [];
  }

  /** Search by exact email (its own per-second limit at HubSpot, paced separately). */
  async searchContactByEmail(email: string, properties: string[]): Promise<ContactRecord | undefined> {
    const res = await this.call<{ results?: ContactRecord[] }>(
      'POST',
      '/crm/v3/objects/contacts/search',
      '/crm/v3/objects/contacts/search',
      {
        cls: 'search',
        body: { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email }] }], properties, limit: 1 },
      },
    );
    return res.data.results?.[0];
  }
}

/**
 * 400 bodies embed per-property results as JSON in `message` (reference §6.2); pull out the first
 * `error` code (INVALID_EMAIL, INVALID_OPTION, PROPERTY_DOESNT_EXIST, ...).
 */
export function codeFromMessage(message: string | undefined): string | undefined {
  if (!message) return undefined;
  const m = /"error"\s*:\s*"([A-Z_]+)"/.exec(message);
  return m?.[1];
}

/** Error code of a whole-batch 400 (structured `errors[].code` first, then the JSON-in-message). */
export function codeOfValidationError(err: HubSpotApiError): string | undefined {
  return err.info.body?.errors?.[0]?.code ?? codeFromMessage(err.info.body?.message);
}
