/** Shared setup for the simulator conformance tests: an in-process simulator and axios clients. */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { startHubSpotSimulator, type CreateAccountOptions, type RunningSimulator, type SimulatorOptions } from '../../src/hubspot-sim';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const RATE_LIMIT_HEADERS = [
  'x-hubspot-ratelimit-daily',
  'x-hubspot-ratelimit-daily-remaining',
  'x-hubspot-ratelimit-interval-milliseconds',
  'x-hubspot-ratelimit-max',
  'x-hubspot-ratelimit-remaining',
  'x-hubspot-ratelimit-secondly',
  'x-hubspot-ratelimit-secondly-remaining',
];

export interface SimHarness {
  sim: RunningSimulator;
  /** No Authorization header. */
  anon: AxiosInstance;
  client(token: string): AxiosInstance;
  /** A fresh account and a client bound to its token. */
  account(options?: CreateAccountOptions): { portalId: number; token: string; api: AxiosInstance };
}

export async function startSim(options: SimulatorOptions = {}): Promise<SimHarness> {
  const sim = await startHubSpotSimulator({ port: 0, ...options });
  const make = (headers: Record<string, string> = {}) =>
    axios.create({ baseURL: sim.url, validateStatus: () => true, headers, timeout: 10_000 });
  const client = (token: string) => make({ Authorization: `Bearer ${token}` });
  return {
    sim,
    anon: make(),
    client,
    account(opts = {}) {
      const { portalId, token } = sim.admin.createAccount(opts);
      return { portalId, token, api: client(token) };
    },
  };
}

export function expectRateLimitHeaders(res: AxiosResponse): void {
  for (const h of RATE_LIMIT_HEADERS) expect(res.headers[h]).toMatch(/^\d+$/);
  expect(res.headers['x-hubspot-ratelimit-interval-milliseconds']).toBe('10000');
}

export function expectCorrelationId(res: AxiosResponse): void {
  expect(res.headers['x-hubspot-correlation-id']).toMatch(UUID_RE);
}

export function upsertInput(email: string, properties: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return { id: email, idProperty: 'email', properties, ...extra };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
