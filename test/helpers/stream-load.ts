/**
 * A steady stream of profile updates for durability tests: each update gives an email of a pool a newer
 * time and a new city; the last value sent per email is what HubSpot must end with.
 */
import { audiencePropertyName } from '../../src/mapping/audience-property';
import type { TestStack } from './stack';
import { postProfiles, xdm, type AudienceRef } from './streaming';

export class StreamLoad {
  readonly expected = new Map<string, string>();
  accepted = 0;
  refused = 0;
  /** Bodies of refused requests (for failure messages). */
  readonly refusals: unknown[] = [];
  private seq = 0;
  private readonly base = Date.parse('2025-01-01T00:00:00Z');

  constructor(
    private readonly stack: TestStack,
    private readonly destinationId: string,
    private readonly audience: AudienceRef,
    private readonly pool: number,
  ) {}

  /** Sends one request of `size` updates; returns the HTTP status. Refused requests change no expectation. */
  async send(size: number): Promise<number> {
    const batch: Array<{ email: string; city: string; at: string }> = [];
    for (let i = 0; i < size; i++) {
      const n = this.seq++;
      batch.push({ email: `load${n % this.pool}@example.com`, city: `City ${n}`, at: new Date(this.base + n).toISOString() });
    }
    const res = await postProfiles(
      this.stack,
      this.destinationId,
      batch.map((b) => xdm({ email: b.email, at: b.at, city: b.city, statuses: { [this.audience.id]: 'realized' } })),
    );
    if (res.status === 202) {
      this.accepted += size;
      for (const b of batch) this.expected.set(b.email, b.city);
    } else {
      this.refused += size;
      this.refusals.push({ status: res.status, body: res.body });
    }
    return res.status;
  }

  /** Sends `size` updates every `everyMs` until `stop()` resolves. */
  async run(size: number, everyMs: number, until: Promise<unknown>): Promise<void> {
    let done = false;
    void until.then(() => {
      done = true;
    });
    while (!done) {
      const started = Date.now();
      await this.send(size);
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - started))));
    }
  }

  /** Emails whose contact does not hold the last value sent (empty when HubSpot is exact). */
  mismatches(portalId: number): string[] {
    const prop = audiencePropertyName(this.audience.id);
    const wrong: string[] = [];
    for (const [email, city] of this.expected) {
      const c = this.stack.sim.admin.getContact(portalId, email);
      if (c?.properties.city !== city || c.properties[prop] !== 'realized') wrong.push(email);
    }
    return wrong;
  }
}
