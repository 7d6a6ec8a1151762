/**
 * A compact, stable fingerprint of the HubSpot property values sent for one contact, so the confirmed-state
 * memory can tell "unchanged" without keeping the values (personal data) or much space: 16 bytes of
 * SHA-256, base64url (22 characters).
 *
 * The hashed encoding is versioned and fixed: changing it would make every remembered contact differ
 * once (a full resend), so a known-answer test pins it. Property order does not matter; values are the
 * strings sent (HubSpot stores every property as a string), so `1` and `"1"` are the same value.
 */
import crypto from 'node:crypto';

const VERSION = 'hsd-fp/v1';
const BYTES = 16;

export type PropertyValues = Readonly<Record<string, string>>;

export function fingerprint(properties: PropertyValues): string {
  const names = Object.keys(properties).sort();
  // One string, one hash update: the same bytes as hashing each part in turn, at a fraction of the calls.
  let text = VERSION;
  for (const name of names) {
    const value: unknown = properties[name];
    if (typeof value !== 'string') throw new TypeError(`Property '${name}' is not a string; fingerprint the values as sent.`);
    // Length-prefixed name and value: no separator inside a value can make two maps encode alike.
    text += `\n${Buffer.byteLength(name)}:${name}=${Buffer.byteLength(value)}:${value}`;
  }
  // One-shot hash: a fraction of createHash's cost per call, the same digest.
  return crypto.hash('sha256', text, 'buffer').subarray(0, BYTES).toString('base64url');
}
