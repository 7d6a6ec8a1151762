/**
 * Keyed hashes of emails for the stream's ordering memory: the store keeps, per destination, when each
 * email was last written, without ever holding the email itself. HMAC-SHA256 with a key derived (HKDF)
 * from the secrets keyring, so the hashes cannot be recomputed without the key.
 *
 * The key comes from the keyring's oldest key id (ids sort by creation date), not the primary one: a
 * rotation adds a new primary key and must not reset the memory.
 */
import crypto from 'node:crypto';
import type { Keyring } from '../secrets/keyring';

export type EmailHasher = (destinationId: string, email: string) => string;

/** The HMAC key derived from the keyring's oldest key (raw bytes, so a worker thread can hash with it too). */
export function emailHashKey(ring: Keyring): Buffer {
  const ids = [...ring.keys.keys()].sort();
  const ikm = ring.keys.get(ids[0])!;
  return Buffer.from(crypto.hkdfSync('sha256', ikm, Buffer.alloc(0), 'hubspot-destination/stream-email-hmac/v1', 32));
}

export function createEmailHasher(ring: Keyring): EmailHasher {
  return hasherWithKey(emailHashKey(ring), 32);
}

/**
 * The confirmed-state memory's keys (src/store/contact-memory.ts): the same HMAC, truncated to its first
 * 16 bytes (22 characters). 128 bits keep collisions out of reach at any contact count, at half the bytes.
 */
export function createMemoryKeyHasher(ring: Keyring): EmailHasher {
  return hasherWithKey(emailHashKey(ring), 16);
}

/**
 * HMAC-SHA256 (RFC 2104) over `destinationId NUL email`, from two one-shot SHA-256 calls on the padded
 * key: the same bytes as crypto.createHmac (a test compares them), at a third of its cost per call,
 * which a run pays once per contact.
 */
export function hasherWithKey(key: Buffer, bytes: 16 | 32): EmailHasher {
  if (key.length > 64) throw new Error('HMAC keys longer than the SHA-256 block are not used here.');
  const block = Buffer.alloc(64);
  key.copy(block);
  const inner = Buffer.from(block.map((b) => b ^ 0x36));
  const outer = Buffer.from(block.map((b) => b ^ 0x5c));
  return (destinationId, email) => {
    const h = crypto.hash('sha256', Buffer.concat([inner, Buffer.from(`${destinationId}\u0000${email}`)]), 'buffer');
    const mac = crypto.hash('sha256', Buffer.concat([outer, h]), 'buffer');
    return (bytes === 32 ? mac : mac.subarray(0, bytes)).toString('base64url');
  };
}
