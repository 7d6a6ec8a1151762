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

export function createEmailHasher(ring: Keyring): EmailHasher {
  const ids = [...ring.keys.keys()].sort();
  const ikm = ring.keys.get(ids[0])!;
  const key = Buffer.from(crypto.hkdfSync('sha256', ikm, Buffer.alloc(0), 'hubspot-destination/stream-email-hmac/v1', 32));
  return (destinationId, email) => crypto.createHmac('sha256', key).update(`${destinationId}\u0000${email}`).digest('base64url');
}
