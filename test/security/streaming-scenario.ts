/**
 * The streaming part of the no-leak test (no-leaks.test.ts): streams profiles with known emails to a
 * destination and waits until HubSpot (the simulator) has them all.
 *
 * It posts to `POST /v1/destinations/:id/profiles` (body: an array of XDM profiles). If that route
 * changes path or body, adjust `send` below (nothing else). Where the route does not exist (a build
 * without streaming) this returns 'not-available' and the leak test says so in its output.
 */
import type { SampleProfile } from '../../src/members/sample-profiles';
import { waitFor, type TestStack } from '../helpers/stack';

export type StreamingOutcome = 'ran' | 'not-available';

export async function runStreamingSession(
  stack: TestStack,
  input: { destinationId: string; portalId: number; profiles: SampleProfile[]; emails: string[] },
): Promise<StreamingOutcome> {
  const send = (profiles: SampleProfile[]) =>
    stack.request({ method: 'POST', url: `/v1/destinations/${input.destinationId}/profiles`, payload: profiles });

  const first = await send(input.profiles.slice(0, 1));
  if (first.statusCode === 404 && first.json().error?.message?.startsWith('No route')) return 'not-available';
  if (first.statusCode >= 300) {
    throw new Error(
      `Streaming route answered ${first.statusCode} ${first.body}: update send() in test/security/streaming-scenario.ts to its request shape.`,
    );
  }
  // The rest in a few requests, as a client streaming updates would.
  for (let i = 1; i < input.profiles.length; i += 10) {
    const res = await send(input.profiles.slice(i, i + 10));
    if (res.statusCode >= 300) throw new Error(`Streaming ${res.statusCode}: ${res.body}`);
  }
  await waitFor(() => input.emails.every((e) => stack.sim.admin.getContact(input.portalId, e)), {
    timeoutMs: 60_000,
    what: 'streamed contacts in HubSpot',
  });
  return 'ran';
}
