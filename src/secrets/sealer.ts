/**
 * Seals HubSpot tokens (and other secrets at rest, e.g. rejected records) so they are never stored in
 * plaintext: only processes holding the secrets keyring (the API that receives a token and the workers
 * that use it) can open them. Sealed form: `sealed:v1:<keyId>:<base64url(iv|ciphertext|tag)>`.
 */
import { decryptWith, encryptWith, type Keyring } from './keyring';

const PREFIX = 'sealed:v1:';

export interface Sealer {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

/** `context` binds a sealed value to its use (e.g. the destination id), so it cannot be swapped elsewhere. */
export function createSealer(ring: Keyring): Sealer {
  return {
    seal(plaintext, context) {
      const { keyId, data } = encryptWith(ring, Buffer.from(plaintext, 'utf8'), Buffer.from(context, 'utf8'));
      return `${PREFIX}${keyId}:${data.toString('base64url')}`;
    },
    open(sealed, context) {
      if (!sealed.startsWith(PREFIX)) throw new Error('Not a sealed value.');
      const rest = sealed.slice(PREFIX.length);
      const i = rest.indexOf(':');
      const keyId = rest.slice(0, i);
      return decryptWith(ring, keyId, Buffer.from(rest.slice(i + 1), 'base64url'), Buffer.from(context, 'utf8')).toString('utf8');
    },
  };
}
