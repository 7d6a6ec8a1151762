/** The streaming route's per-request shortcuts: the cached destination, the 429's sub-second hint, pooled IVs. */
import crypto from 'node:crypto';
import { retryAfterMs } from '../../../src/api/routes/stream';
import { StreamTargets } from '../../../src/api/stream-targets';
import { decryptWith, encryptWith } from '../../../src/secrets/keyring';
import type { DestinationRecord } from '../../../src/store/destinations';

const record = (id: string, name = 'D'): DestinationRecord =>
  ({ id, name, mapping: { attributes: [{ source: 'a', target: 'b' }] } }) as unknown as DestinationRecord;

describe('StreamTargets', () => {
  test('reads a destination once per ttl, shares concurrent reads, forgets on change', async () => {
    let now = 0;
    let reads = 0;
    let name = 'one';
    const targets = new StreamTargets(
      {
        get: async (id) => {
          reads++;
          return record(id, name);
        },
      },
      1000,
      () => now,
    );
    const [a, b] = await Promise.all([targets.get('d1'), targets.get('d1')]);
    expect(reads).toBe(1);
    expect(a).toEqual({ destinationId: 'd1', destinationName: 'one', mapping: record('d1').mapping });
    expect(b).toBe(a);
    name = 'two';
    now = 999;
    expect((await targets.get('d1'))?.destinationName).toBe('one');
    now = 1000;
    expect((await targets.get('d1'))?.destinationName).toBe('two');
    expect(reads).toBe(2);
    name = 'three';
    targets.forget('d1');
    expect((await targets.get('d1'))?.destinationName).toBe('three');
    expect(reads).toBe(3);
  });

  test('never caches an unknown destination or a failed read', async () => {
    let exists = false;
    let fail = true;
    const targets = new StreamTargets(
      {
        get: async (id) => {
          if (fail) throw new Error('store down');
          return exists ? record(id) : undefined;
        },
      },
      60_000,
    );
    await expect(targets.get('d1')).rejects.toThrow('store down');
    fail = false;
    await new Promise((r) => setImmediate(r));
    expect(await targets.get('d1')).toBeUndefined();
    exists = true;
    await new Promise((r) => setImmediate(r));
    expect(await targets.get('d1')).toMatchObject({ destinationId: 'd1' });
  });
});

describe('retryAfterMs', () => {
  const b = (updates?: number, historyLength = 10) => ({ updates, bytes: 0, historyLength, historyBytes: 1000 });
  test('the time to send the excess at 2,500/s, between 100 ms and 1 s', () => {
    expect(retryAfterMs(b(4000), 1, 4000)).toBe(100);
    expect(retryAfterMs(b(4000), 1000, 4000)).toBe(400);
    expect(retryAfterMs(b(6000), 1000, 4000)).toBe(1000);
  });
  test('1 s when the backlog is unknown or no worker processes the stream', () => {
    expect(retryAfterMs(undefined, 1, 4000)).toBe(1000);
    expect(retryAfterMs(b(undefined), 1, 4000)).toBe(1000);
    expect(retryAfterMs(b(0, 50_000), 1, 4000)).toBe(1000);
  });
});

describe('pooled IVs', () => {
  test('every seal has its own IV and opens again', () => {
    const ring = { primaryId: 'k1', keys: new Map([['k1', crypto.randomBytes(32)]]) };
    const ivs = new Set<string>();
    const plain = Buffer.from('{"e":"a@example.com"}');
    for (let i = 0; i < 2000; i++) {
      const { data } = encryptWith(ring, plain, Buffer.from('ctx'));
      ivs.add(data.subarray(0, 12).toString('hex'));
      if (i % 97 === 0) expect(decryptWith(ring, 'k1', data, Buffer.from('ctx')).equals(plain)).toBe(true);
    }
    expect(ivs.size).toBe(2000);
  });
});
