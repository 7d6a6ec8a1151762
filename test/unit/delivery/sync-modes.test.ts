/**
 * The update and create sends against the HubSpot simulator (real client, real server): a contact created
 * between the read and the create (a 409 on an all-or-nothing account, a per-record CONFLICT otherwise)
 * ends ALREADY_IN_HUBSPOT, a value only HubSpot refuses is isolated by bisection, and a contact deleted
 * between the read and the update is NOT_IN_HUBSPOT.
 */
import { sendCreates, sendUpdates } from '../../../src/delivery/sync-modes';
import { HubSpotClient } from '../../../src/hubspot/client';
import type { PreparedContact } from '../../../src/mapping/types';
import { startHubSpotSimulator, type RunningSimulator } from '../../../src/hubspot-sim';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startHubSpotSimulator({ port: 0 });
});
afterAll(() => sim.close());

const contact = (i: number, properties: Record<string, string> = {}): PreparedContact => ({
  line: i + 1,
  email: `c${i}@example.com`,
  status: 'realized',
  properties: { email: `c${i}@example.com`, firstname: `F${i}`, ...properties },
});

/** A client whose batch read lets `meanwhile` write to HubSpot right after HubSpot answered (a real race). */
class RacingClient extends HubSpotClient {
  meanwhile?: () => Promise<void>;
  override async batchReadContacts(...args: Parameters<HubSpotClient['batchReadContacts']>) {
    const records = await super.batchReadContacts(...args);
    const race = this.meanwhile;
    this.meanwhile = undefined;
    await race?.();
    return records;
  }
}

function clients(upsertPartial: 'per-record' | 'all-or-nothing') {
  const { token, portalId } = sim.admin.createAccount({ behaviour: { upsertPartial } });
  const client = new RacingClient({ baseUrl: sim.url, token });
  const plain = new HubSpotClient({ baseUrl: sim.url, token });
  return { client, plain, portalId, token };
}

test.each(['per-record', 'all-or-nothing'] as const)(
  'create: a contact created after the read is ALREADY_IN_HUBSPOT (%s)',
  async (mode) => {
    const { client, plain, portalId } = clients(mode);
    const batch = Array.from({ length: 10 }, (_, i) => contact(i));
    client.meanwhile = async () => {
      await plain.batchUpsertContacts([{ email: batch[3].email, properties: { firstname: 'Other' } }]);
    };
    const out = await sendCreates(client, batch, 'email');
    expect(out.upserted.map((u) => u.contact.line).sort((a, b) => a - b)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);
    expect(out.skipped).toEqual([
      expect.objectContaining({ contact: batch[3], reason: expect.objectContaining({ code: 'ALREADY_IN_HUBSPOT' }) }),
    ]);
    expect(out.rejected).toEqual([]);
    expect(sim.admin.getContact(portalId, batch[3].email)?.properties.firstname).toBe('Other');
    expect(sim.admin.contactCount(portalId)).toBe(10);
  },
);

test('update: a value only HubSpot refuses is isolated; a contact deleted after the read is NOT_IN_HUBSPOT', async () => {
  const { client, plain, portalId, token } = clients('per-record');
  const batch = Array.from({ length: 8 }, (_, i) => contact(i, { lifecyclestage: 'customer' }));
  await plain.batchUpsertContacts(batch.map((c) => ({ email: c.email, properties: c.properties })));
  // lifecyclestage only moves forward at HubSpot: "lead" after "customer" is refused for that contact alone.
  const next = batch.map((c, i) => ({
    ...c,
    properties: { ...c.properties, firstname: `G${i}`, lifecyclestage: i === 5 ? 'lead' : 'customer' },
  }));
  const gone = sim.admin.getContact(portalId, batch[2].email)!.id;
  client.meanwhile = async () => {
    const res = await fetch(`${sim.url}/crm/v3/objects/contacts/${gone}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(204);
  };
  const out = await sendUpdates(client, next, 'email');
  expect(out.rejected.map((r) => r.contact.line)).toEqual([6]);
  expect(out.upserted).toHaveLength(6);
  expect(out.skipped.map((s) => [s.contact.line, s.reason.code])).toEqual([[3, 'NOT_IN_HUBSPOT']]);
  expect(sim.admin.getContact(portalId, batch[0].email)?.properties.firstname).toBe('G0');
});
