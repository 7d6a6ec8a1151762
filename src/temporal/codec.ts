/**
 * Payload encryption for everything Temporal stores: workflow/activity inputs and results, signals,
 * queries, updates, memos, heartbeat details and (with the failure converter) failure messages and
 * stack traces. AES-256-GCM over the whole original payload (metadata included), as in Temporal's
 * `encryption` sample, so other SDKs' codecs and codec servers with the same keys can read it:
 *
 *   { metadata: { encoding: "binary/encrypted", "encryption-key-id": "<id>" }, data: iv|ciphertext|tag }
 *
 * Encrypts with the keyring's primary key, decrypts with whichever key the payload names (rotation).
 * Payloads in other encodings pass through decode untouched (e.g. history written before encryption).
 */
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { AppError } from '../errors';
import { decryptWith, encryptWith, type Keyring } from '../secrets/keyring';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';

const ProtoPayload = temporal.api.common.v1.Payload;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function metaString(payload: Payload, key: string): string | undefined {
  const v = payload.metadata?.[key];
  return v ? fromUtf8.decode(v) : undefined;
}

export function isEncrypted(payload: Payload): boolean {
  return metaString(payload, METADATA_ENCODING_KEY) === ENCODING_ENCRYPTED;
}

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  get primaryKeyId(): string {
    return this.keyring.primaryId;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = Buffer.from(ProtoPayload.encode(payload).finish());
      const { keyId, data } = encryptWith(this.keyring, plain);
      return {
        metadata: { [METADATA_ENCODING_KEY]: utf8.encode(ENCODING_ENCRYPTED), [METADATA_KEY_ID]: utf8.encode(keyId) },
        data: new Uint8Array(data),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!isEncrypted(payload)) return payload;
      const keyId = metaString(payload, METADATA_KEY_ID);
      if (!keyId)
        throw new AppError('INTERNAL', `An encrypted payload has no '${METADATA_KEY_ID}' metadata; it was not written by this codec.`);
      if (!this.keyring.keys.has(keyId)) {
        throw new AppError(
          'INTERNAL',
          `A payload is encrypted with codec key '${keyId}', which this process does not have. Give every client and worker the same codec keys (CODEC_KEYS or the codec key file), keeping retired keys for decryption.`,
        );
      }
      let plain: Buffer;
      try {
        plain = decryptWith(this.keyring, keyId, Buffer.from(payload.data ?? new Uint8Array()));
      } catch (err) {
        throw new AppError(
          'INTERNAL',
          `A payload encrypted with codec key '${keyId}' does not decrypt: the key differs from the one that encrypted it, or the payload was altered.`,
          { cause: err },
        );
      }
      return ProtoPayload.decode(plain);
    });
  }
}
