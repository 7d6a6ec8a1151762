/** Helpers for streaming tests: activate audiences, build and post profiles, read and await stream stats. */
import fs from 'node:fs';
import path from 'node:path';
import type { StreamStats } from '../../src/streaming/types';
import { startActivation, waitForEnd } from './activation';
import { waitFor, type TestStack } from './stack';

export interface AudienceRef {
  id: string;
  name: string;
}

export const AUD_A: AudienceRef = { id: 'aud-stream-a', name: 'Stream A' };
export const AUD_B: AudienceRef = { id: 'aud-stream-b', name: 'Stream B' };
/** Never activated anywhere. */
export const AUD_OFF: AudienceRef = { id: 'aud-stream-off', name: 'Not activated' };

/** Activates an audience the quick way: a batch activation of a file whose only profile is not a member. */
export async function activateAudience(stack: TestStack, destinationId: string, audience: AudienceRef): Promise<void> {
  const file = path.join(stack.dataDir, 'samples', `activate-${audience.id}.ndjson`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify({ identityMap: { Email: [{ id: 'nobody@example.com', primary: true }] }, segmentMembership: { ups: {} } }) + '\n',
  );
  const id = await startActivation(stack, destinationId, { path: file }, audience);
  const end = await waitForEnd(stack, id, 60_000);
  if (end.status !== 'completed') throw new Error(`activation of ${audience.id}: ${end.status}`);
}

export interface ProfileSpec {
  email: string;
  /** ISO time of the update (XDM `timestamp`). */
  at?: string;
  statuses?: Record<string, string>;
  first?: string;
  last?: string;
  city?: string;
}

export function xdm(p: ProfileSpec): Record<string, unknown> {
  const ups: Record<string, unknown> = {};
  for (const [id, status] of Object.entries(p.statuses ?? {})) ups[id] = { status, lastQualificationTime: p.at ?? '2024-01-01T00:00:00Z' };
  return {
    identityMap: { Email: [{ id: p.email, primary: true }] },
    ...(p.at ? { timestamp: p.at } : {}),
    ...(p.first || p.last
      ? { person: { name: { ...(p.first ? { firstName: p.first } : {}), ...(p.last ? { lastName: p.last } : {}) } } }
      : {}),
    ...(p.city ? { workAddress: { city: p.city } } : {}),
    segmentMembership: { ups },
  };
}

export async function postProfiles(
  stack: TestStack,
  destinationId: string,
  profiles: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON answer, read by many tests
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const res = await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/profiles`, payload: profiles as object });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

export async function sendProfiles(stack: TestStack, destinationId: string, specs: ProfileSpec[]): Promise<void> {
  const res = await postProfiles(stack, destinationId, specs.map(xdm));
  if (res.status !== 202) throw new Error(`profiles: ${res.status} ${JSON.stringify(res.body)}`);
}

export type StatsView = StreamStats & { state: string; lagMs: number; workflowId: string };

export async function streamStats(stack: TestStack, destinationId: string): Promise<StatsView> {
  const res = await stack.request({ method: 'GET', url: `/v1/destinations/${destinationId}/stream` });
  if (res.statusCode !== 200) throw new Error(`stream stats: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Waits until the stream has received `received` updates and holds none (buffered or in flight). */
export async function waitIdle(stack: TestStack, destinationId: string, received: number, timeoutMs = 30_000): Promise<StatsView> {
  return waitFor(
    async () => {
      const s = await streamStats(stack, destinationId).catch(() => undefined);
      return s && s.received >= received && s.buffered === 0 && s.inFlight === 0 ? s : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `stream of ${destinationId} to be idle after ${received} updates` },
  );
}

/** Every update accounted for once. */
export function expectBalanced(s: StatsView): void {
  expect(s.received).toBe(s.sent + s.rejected + s.ignored + s.merged + s.stale + s.unchanged + s.buffered + s.inFlight);
}
