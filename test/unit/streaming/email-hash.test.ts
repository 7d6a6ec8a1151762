/** The keyed email hashes: HMAC-SHA256 exactly as crypto.createHmac computes it, from the keyring's oldest key. */
import crypto from 'node:crypto';
import { createEmailHasher, createMemoryKeyHasher, emailHashKey, hasherWithKey } from '../../../src/streaming/email-hash';

const ring = {
  primaryId: 'k2',
  keys: new Map([
    ['k1', crypto.randomBytes(32)],
    ['k2', crypto.randomBytes(32)],
  ]),
};

test('equals crypto.createHmac for any destination and email, ASCII or not', () => {
  const key = emailHashKey(ring);
  const hash = hasherWithKey(key, 32);
  const inputs = [
    ['d', ''],
    ['dst_1', 'ana@example.com'],
    ['8b0f…', 'jürgen.müller@exämple.de'],
    ['x'.repeat(200), 'y'.repeat(300)],
    ...Array.from({ length: 200 }, () => [crypto.randomUUID(), crypto.randomBytes(1 + crypto.randomInt(80)).toString('latin1')]),
  ];
  for (const [d, e] of inputs) {
    expect(hash(d, e)).toBe(crypto.createHmac('sha256', key).update(`${d}\u0000${e}`).digest('base64url'));
  }
});

test('the memory key is the same HMAC truncated to 16 bytes; the oldest key is used, so adding a key changes nothing', () => {
  const full = createEmailHasher(ring)('dst', 'ana@example.com');
  const short = createMemoryKeyHasher(ring)('dst', 'ana@example.com');
  expect(Buffer.from(short, 'base64url')).toEqual(Buffer.from(full, 'base64url').subarray(0, 16));
  const rotated = { primaryId: 'k3', keys: new Map([...ring.keys, ['k3', crypto.randomBytes(32)]]) };
  expect(createMemoryKeyHasher(rotated)('dst', 'ana@example.com')).toBe(short);
});
