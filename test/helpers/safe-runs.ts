/** Helpers of the safe-run tests (issue 17): hand-made XDM profiles, activations with options, write counts. */
import fs from 'node:fs';
import path from 'node:path';
import { AUDIENCE } from './activation';
import { waitFor, type TestStack } from './stack';

export interface Member {
  email: string;
  firstName: string;
  lastName: string;
  city: string;
  tier?: string;
  loyaltyId?: string;
  status?: 'realized' | 'existing' | 'exited';
}

export function profileOf(m: Member): Record<string, unknown> {
  return {
    identityMap: { Email: [{ id: m.email, primary: true }] },
    person: { name: { firstName: m.firstName, lastName: m.lastName } },
    workAddress: { city: m.city },
    loyalty: { ...(m.tier !== undefined ? { tier: m.tier } : {}), ...(m.loyaltyId !== undefined ? { id: m.loyaltyId } : {}) },
    segmentMembership: { ups: { [AUDIENCE.id]: { status: m.status ?? 'realized', lastQualificationTime: '2026-01-01T00:00:00Z' } } },
  };
}

export function members(count: number, prefix: string, extra: (i: number) => Partial<Member> = () => ({})): Member[] {
  return Array.from({ length: count }, (_, i) => ({
    email: `${prefix}-${i}@example.com`,
    firstName: `First${i}`,
    lastName: `Last${i}`,
    city: `City${i % 7}`,
    ...extra(i),
  }));
}

export function writeProfiles(stack: TestStack, name: string, list: Member[]): string {
  const file = path.join(stack.dataDir, 'samples', `${name}.ndjson`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, list.map((m) => JSON.stringify(profileOf(m))).join('\n') + '\n');
  return file;
}

export async function activateWith(
  stack: TestStack,
  destinationId: string,
  file: string,
  options: Record<string, unknown>,
): Promise<string> {
  const res = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/activations`,
    payload: { audience: AUDIENCE, source: { path: file }, options },
  });
  if (res.statusCode !== 202) throw new Error(`activation start: ${res.statusCode} ${res.body}`);
  return res.json<{ activationId: string }>().activationId;
}

/** Requests the simulator answered on routes that write (contacts, properties, groups). */
export function writeCalls(stack: TestStack): number {
  let n = 0;
  for (const [route, byStatus] of Object.entries(stack.sim.admin.stats().byRoute)) {
    const write =
      /batch\/(upsert|update|create|archive)$/.test(route) ||
      /^(PATCH|DELETE) /.test(route) ||
      (/^POST /.test(route) && /(\/contacts|\/properties\/[^/]+(\/groups)?)$/.test(route));
    if (write) for (const v of Object.values(byStatus)) n += v;
  }
  return n;
}

/** Requests answered on one route pattern suffix (e.g. `batch/read`). */
export function callsTo(stack: TestStack, suffix: string): number {
  let n = 0;
  for (const [route, byStatus] of Object.entries(stack.sim.admin.stats().byRoute))
    if (route.endsWith(suffix)) for (const v of Object.values(byStatus)) n += v;
  return n;
}

export async function planOf(stack: TestStack, activationId: string) {
  const lines: Array<{
    line: number;
    email?: string;
    action: string;
    changes?: Array<{ property: string; old: string | null; new: string }>;
  }> = [];
  let after = 0;
  for (;;) {
    const res = await stack.request({ method: 'GET', url: `/v1/activations/${activationId}/plan?after=${after}&limit=1000` });
    const page = res.json<{ items: typeof lines; next?: number }>();
    lines.push(...page.items);
    if (page.next === undefined) return lines;
    after = page.next;
  }
}

export { waitFor };
