/**
 * End to end on real parts: API → Temporal dev server → worker → HubSpot simulator.
 * A 10,000-member activation lands exactly: every member with its mapped fields and status.
 */
import fs from 'node:fs';
import path from 'node:path';
import { accountingError } from '../../src/delivery/counts';
import { audiencePropertyName } from '../../src/mapping/audience-property';
import { generateProfileObjects, SAMPLE_AUDIENCES, type SampleProfile } from '../../src/members/sample-profiles';
import { createDestination, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(300_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

function writeProfiles(file: string, profiles: SampleProfile[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, profiles.map((p) => JSON.stringify(p)).join('\n') + '\n');
}

async function waitForActivation(activationId: string, timeoutMs = 240_000) {
  return waitFor(
    async () => {
      const res = await stack.request({ method: 'GET', url: `/v1/activations/${activationId}` });
      const body = res.json();
      return ['completed', 'completed_with_rejections', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    },
    { timeoutMs, intervalMs: 500, what: `activation ${activationId}` },
  );
}

test('a 10,000-member activation lands exactly in HubSpot, with mapped fields and status', async () => {
  const audience = SAMPLE_AUDIENCES[0];
  const profiles = [...generateProfileObjects({ count: 10_000, seed: 7 })];
  const members = profiles.filter((p) => p.segmentMembership.ups[audience.id]);
  const file = path.join(stack.dataDir, 'samples', 'ten-thousand.ndjson');
  writeProfiles(file, profiles);

  const { destinationId, portalId } = await createDestination(stack);
  const started = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/activations`,
    payload: { audience, source: { path: file } },
  });
  expect(started.statusCode).toBe(202);
  const { activationId, webUiUrl } = started.json();
  expect(webUiUrl).toContain(activationId);

  const done = await waitForActivation(activationId);
  expect(done.status).toBe('completed');
  const summary = done.summary;
  expect(accountingError(summary)).toBeUndefined();
  expect(summary.received).toBe(10_000);
  expect(summary.upserted).toBe(members.length);
  expect(summary.created).toBe(members.length);
  expect(summary.skipped).toBe(10_000 - members.length);
  expect(summary.skippedByReason).toEqual({ NOT_IN_AUDIENCE: 10_000 - members.length });
  expect(summary.rejected).toBe(0);

  // Count and compare every contact from the simulator's admin view.
  const admin = stack.sim.admin;
  expect(admin.contactCount(portalId)).toBe(members.length);
  const prop = audiencePropertyName(audience.id);
  for (const p of members) {
    const email = p.identityMap.Email.find((e) => e.primary)!.id.toLowerCase();
    const c = admin.getContact(portalId, email);
    expect(c).toBeDefined();
    expect(c!.properties).toMatchObject({
      email,
      firstname: p.person.name.firstName,
      lastname: p.person.name.lastName,
      city: p.workAddress.city,
      country: p.workAddress.country,
      [prop]: p.segmentMembership.ups[audience.id].status,
    });
  }

  // The audience property exists as HubSpot expects: enumeration in the audience group, labelled by name.
  const property = admin.listProperties(portalId).find((x) => x.name === prop)!;
  expect(property).toMatchObject({ type: 'enumeration', fieldType: 'select', label: audience.name, groupName: 'audience_memberships' });
  expect(property.options.map((o) => o.value).sort()).toEqual(['existing', 'exited', 'realized']);

  // Visible in Temporal visibility by destination.
  const listed = await waitFor(
    async () => {
      const res = await stack.request({ method: 'GET', url: `/v1/activations?destinationId=${destinationId}&status=Completed` });
      const items = res.json().items as Array<{ activationId: string }>;
      return items.some((i) => i.activationId === activationId) ? items : undefined;
    },
    { what: 'visibility listing' },
  );
  expect(listed.length).toBe(1);
});
