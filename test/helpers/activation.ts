/** Helpers for tests that run activations through the API and check what landed in the simulator. */
import fs from 'node:fs';
import path from 'node:path';
import { audiencePropertyName } from '../../src/mapping/audience-property';
import { generateProfileObjects, profileToJson, SAMPLE_AUDIENCES, type SampleProfile } from '../../src/members/sample-profiles';
import { waitFor, type TestStack } from './stack';

export const AUDIENCE = SAMPLE_AUDIENCES[0];
export const UPSERT_ROUTE = 'POST /crm/v3/objects/contacts/batch/upsert';

/** Writes `count` profiles that are all members of AUDIENCE; returns the file and the profiles. */
export function writeMembers(stack: TestStack, name: string, count: number, seed = 11): { file: string; profiles: SampleProfile[] } {
  const profiles = [...generateProfileObjects({ count, seed, membershipRates: [1, 0.3, 0.3] })];
  const file = path.join(stack.dataDir, 'samples', `${name}.ndjson`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, profiles.map(profileToJson).join('\n') + '\n');
  return { file, profiles };
}

export async function startActivation(
  stack: TestStack,
  destinationId: string,
  source: { path: string } | { uploadId: string },
  audience = AUDIENCE,
): Promise<string> {
  const res = await stack.request({ method: 'POST', url: `/v1/destinations/${destinationId}/activations`, payload: { audience, source } });
  if (res.statusCode !== 202) throw new Error(`activation start: ${res.statusCode} ${res.body}`);
  return res.json<{ activationId: string }>().activationId;
}

/** Starts a several-audience activation of a file on the worker's disk; answers its id. */
export async function startAudiences(
  stack: TestStack,
  destinationId: string,
  file: string,
  audiences: unknown[],
  options?: Record<string, unknown>,
): Promise<string> {
  const res = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/activations`,
    payload: { audiences, source: { path: file }, ...(options ? { options } : {}) },
  });
  if (res.statusCode !== 202) throw new Error(`activation start: ${res.statusCode} ${res.body}`);
  return res.json<{ activationId: string }>().activationId;
}

/** Starts a several-audience activation and waits for its end (its view). */
export async function runAudiences(
  stack: TestStack,
  destinationId: string,
  file: string,
  audiences: unknown[],
  options?: Record<string, unknown>,
  timeoutMs = 300_000,
) {
  return waitForEnd(stack, await startAudiences(stack, destinationId, file, audiences, options), timeoutMs);
}

export async function getActivation(stack: TestStack, activationId: string) {
  return (await stack.request({ method: 'GET', url: `/v1/activations/${activationId}` })).json();
}

export async function waitForEnd(stack: TestStack, activationId: string, timeoutMs = 120_000) {
  return waitFor(
    async () => {
      const body = await getActivation(stack, activationId);
      return ['completed', 'completed_with_rejections', 'failed', 'cancelled', 'terminated'].includes(body.status) ? body : undefined;
    },
    { timeoutMs, intervalMs: 300, what: `activation ${activationId} to end` },
  );
}

/** Successful batch-upsert calls the simulator has answered (200 or 207). */
export function upsertCalls(stack: TestStack): number {
  const byStatus = stack.sim.admin.stats().byRoute[UPSERT_ROUTE] ?? {};
  return (byStatus['200'] ?? 0) + (byStatus['207'] ?? 0);
}

/** Asserts the simulator holds exactly these members, each with its mapped fields and audience status. */
export function expectExactContacts(
  stack: TestStack,
  portalId: number,
  profiles: SampleProfile[],
  audience = AUDIENCE,
  options: { onlyThese?: boolean } = {},
): void {
  const prop = audiencePropertyName(audience.id);
  const members = profiles.filter((p) => p.segmentMembership.ups[audience.id]);
  if (options.onlyThese !== false) expect(stack.sim.admin.contactCount(portalId)).toBe(members.length);
  for (const p of members) {
    const email = p.identityMap.Email.find((e) => e.primary)!.id.toLowerCase();
    const c = stack.sim.admin.getContact(portalId, email);
    expect(c?.properties).toMatchObject({
      email,
      firstname: p.person.name.firstName,
      lastname: p.person.name.lastName,
      city: p.workAddress.city,
      [prop]: p.segmentMembership.ups[audience.id].status,
    });
  }
}
