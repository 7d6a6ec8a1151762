/**
 * Configuration problems fail once, non-retryably, with a message that says what to fix — and without
 * retry storms (counted from the simulator's request stats).
 */
import fs from 'node:fs';
import path from 'node:path';
import axios from 'axios';
import { audiencePropertyName } from '../../src/mapping/audience-property';
import { generateProfiles, SAMPLE_AUDIENCES } from '../../src/members/sample-profiles';
import { createDestination, DEFAULT_MAPPING, startStack, waitFor, type TestStack } from '../helpers/stack';

jest.setTimeout(120_000);

let stack: TestStack;
let sampleFile: string;
const audience = SAMPLE_AUDIENCES[0];

beforeAll(async () => {
  stack = await startStack();
  sampleFile = path.join(stack.dataDir, 'samples', 'small.ndjson');
  fs.mkdirSync(path.dirname(sampleFile), { recursive: true });
  fs.writeFileSync(sampleFile, [...generateProfiles({ count: 200, seed: 3 })].join('\n') + '\n');
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.sim.admin.resetStats());

function requests(): number {
  return stack.sim.admin.stats().totalRequests;
}

async function postDestination(token: string, mapping = DEFAULT_MAPPING) {
  return stack.request({
    method: 'POST',
    url: '/v1/destinations',
    payload: { name: 'x', hubspot: { token, baseUrl: stack.sim.url }, mapping: { attributes: mapping } },
  });
}

async function activate(destinationId: string) {
  const res = await stack.request({
    method: 'POST',
    url: `/v1/destinations/${destinationId}/activations`,
    payload: { audience, source: { path: sampleFile } },
  });
  expect(res.statusCode).toBe(202);
  const { activationId } = res.json();
  return waitFor(
    async () => {
      const body = (await stack.request({ method: 'GET', url: `/v1/activations/${activationId}` })).json();
      return ['completed', 'completed_with_rejections', 'failed'].includes(body.status) ? body : undefined;
    },
    { what: 'activation end' },
  );
}

/** Attempts of each activity in the run's history: failures must not be retried. */
async function activityAttempts(activationId: string): Promise<Record<string, number>> {
  const history = await stack.client.workflow.getHandle(activationId).fetchHistory();
  const attempts: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) attempts[name] = (attempts[name] ?? 0) + 1;
    if (e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt! > 1)
      attempts.retries = (attempts.retries ?? 0) + 1;
  }
  return attempts;
}

test('an invalid token is refused at creation with a clear message, after one HubSpot call', async () => {
  const res = await postDestination('pat-na1-00000000-0000-0000-0000-000000000000');
  expect(res.statusCode).toBe(422);
  const body = res.json();
  expect(body.error.code).toBe('HUBSPOT_AUTH_FAILED');
  expect(body.error.message).toMatch(/rejected the token.*Set a valid private-app token/);
  expect(JSON.stringify(body)).not.toContain('pat-na1-00000000');
  expect(requests()).toBe(1);
});

test('a token without the schema scopes is refused, naming the missing scopes', async () => {
  const account = stack.sim.admin.createAccount({ scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write'] });
  const res = await postDestination(account.token);
  expect(res.statusCode).toBe(422);
  const body = res.json();
  expect(body.error.code).toBe('HUBSPOT_MISSING_SCOPES');
  expect(body.error.message).toContain('crm.schemas.contacts.read');
  expect(body.error.message).toContain('crm.schemas.contacts.write');
  expect(requests()).toBe(1);
});

test('an unknown mapping target is refused, naming it', async () => {
  const account = stack.sim.admin.createAccount({});
  const res = await postDestination(account.token, [...DEFAULT_MAPPING, { source: 'person.favouriteColour', target: 'favourite_colour' }]);
  expect(res.statusCode).toBe(422);
  const body = res.json();
  expect(body.error.code).toBe('HUBSPOT_MAPPING_INVALID');
  expect(body.error.message).toContain('favourite_colour');
  expect(requests()).toBeLessThanOrEqual(3);
});

test('a revoked token fails the activation once, non-retryably, with a clear reason', async () => {
  const { destinationId, portalId, token } = await createDestination(stack);
  stack.sim.admin.revokeToken(portalId, token);
  stack.sim.admin.resetStats();
  const end = await activate(destinationId);
  expect(end.status).toBe('failed');
  expect(end.failure.type).toBe('HubSpotAuthFailed');
  expect(end.failure.message).toMatch(/rejected the token/);
  expect(requests()).toBe(1);
  expect(await activityAttempts(end.activationId)).toEqual({ validateConnection: 1 });
});

test('an existing property of the wrong type under the audience property name fails once with what to fix', async () => {
  const { destinationId, token } = await createDestination(stack);
  const name = audiencePropertyName(audience.id);
  const created = await axios.post(
    `${stack.sim.url}/crm/v3/properties/contacts`,
    {
      name,
      label: 'Taken',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
    },
    { headers: { Authorization: `Bearer ${token}` }, validateStatus: () => true },
  );
  expect(created.status).toBe(201);
  stack.sim.admin.resetStats();
  const end = await activate(destinationId);
  expect(end.status).toBe('failed');
  expect(end.failure.type).toBe('HubSpotPropertyConflict');
  expect(end.failure.message).toContain(name);
  expect(end.failure.message).toMatch(/string/);
  expect(await activityAttempts(end.activationId)).toEqual({ validateConnection: 1, ensureAudienceProperty: 1 });
  expect(requests()).toBeLessThanOrEqual(4);
  // Nothing was upserted.
  expect(stack.sim.admin.stats().byRoute['POST /crm/v3/objects/contacts/batch/upsert']).toBeUndefined();
});

test('a mapping target archived after creation fails the activation once at the mapping re-check', async () => {
  const account = stack.sim.admin.createAccount({});
  const auth = { headers: { Authorization: `Bearer ${account.token}` }, validateStatus: () => true };
  const made = await axios.post(
    `${stack.sim.url}/crm/v3/properties/contacts`,
    {
      name: 'favourite_city',
      label: 'Favourite city',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
    },
    auth,
  );
  expect(made.status).toBe(201);
  const res = await postDestination(account.token, [...DEFAULT_MAPPING, { source: 'workAddress.city', target: 'favourite_city' }]);
  expect(res.statusCode).toBe(201);
  const archived = await axios.delete(`${stack.sim.url}/crm/v3/properties/contacts/favourite_city`, auth);
  expect(archived.status).toBe(204);
  const end = await activate(res.json().id);
  expect(end.status).toBe('failed');
  expect(end.failure.type).toBe('HubSpotMappingInvalid');
  expect(end.failure.message).toContain('favourite_city');
  expect(await activityAttempts(end.activationId)).toEqual({ validateConnection: 1, ensureAudienceProperty: 1 });
});
