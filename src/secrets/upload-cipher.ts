/**
 * Uploads at rest: member data is encrypted as it streams in, in segments, so a reader can start at any
 * byte offset (cursors are plaintext offsets) and decrypt only the segments it reads.
 *
 * Scheme `seg-gcm-v1`: a per-upload key = HKDF-SHA256(codec key, salt "hsd-upload-v1", info upload id);
 * the plaintext is cut into segments of `segmentBytes` (the last one shorter, possibly empty); segment i
 * is AES-256-GCM with IV = 4 zero bytes + i as 8 bytes big-endian and AAD = one byte (1 for the last
 * segment, else 0), stored as ciphertext followed by its 16-byte tag. So segments cannot be altered,
 * reordered, moved to another upload, or cut off at the end without the read failing.
 */
import crypto from 'node:crypto';
import type { Keyring } from './keyring';

export const UPLOAD_CIPHER = 'seg-gcm-v1';
export const TAG_BYTES = 16;

export interface UploadEncryption {
  scheme: typeof UPLOAD_CIPHER;
  keyId: string;
}

function uploadKey(ring: Keyring, keyId: string, uploadId: string): Buffer {
  const key = ring.keys.get(keyId);
  if (!key) throw new Error(`Unknown codec key id '${keyId}' for upload ${uploadId}: the key is missing from the codec keyring.`);
  return Buffer.from(crypto.hkdfSync('sha256', key, 'hsd-upload-v1', uploadId, 32));
}

function iv(index: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64BE(BigInt(index), 4);
  return b;
}

const aad = (final: boolean) => Buffer.from([final ? 1 : 0]);

/** Encrypts an upload segment by segment; `push` returns the segments completed so far. */
export class SegmentEncryptor {
  readonly encryption: UploadEncryption;
  private readonly key: Buffer;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;

  constructor(
    ring: Keyring,
    uploadId: string,
    private readonly segmentBytes: number,
  ) {
    this.encryption = { scheme: UPLOAD_CIPHER, keyId: ring.primaryId };
    this.key = uploadKey(ring, ring.primaryId, uploadId);
  }

  private seal(plain: Buffer, final: boolean): Buffer {
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv(this.index++));
    cipher.setAAD(aad(final));
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }

  /** Segments completed by `chunk`. A full segment is kept back until more data comes: it may be the last. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.pendingBytes === this.segmentBytes) out.push(this.takeSegment(false));
      const take = Math.min(this.segmentBytes - this.pendingBytes, chunk.length - off);
      this.pending.push(chunk.subarray(off, off + take));
      this.pendingBytes += take;
      off += take;
    }
    return out;
  }

  /** The last segment (possibly empty). */
  finish(): Buffer {
    return this.takeSegment(true);
  }

  private takeSegment(final: boolean): Buffer {
    const plain = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return this.seal(plain, final);
  }
}

/** Decrypts segments of one upload by index. */
export class SegmentDecryptor {
  private readonly key: Buffer;

  constructor(ring: Keyring, encryption: UploadEncryption, uploadId: string) {
    if (encryption.scheme !== UPLOAD_CIPHER)
      throw new Error(`Upload ${uploadId} uses an unknown encryption scheme '${encryption.scheme}'.`);
    this.key = uploadKey(ring, encryption.keyId, uploadId);
  }

  open(index: number, segment: Buffer, final: boolean): Buffer {
    if (segment.length < TAG_BYTES) throw new Error(`Upload segment ${index} is truncated.`);
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, iv(index));
    decipher.setAAD(aad(final));
    decipher.setAuthTag(segment.subarray(segment.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(segment.subarray(0, segment.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`Upload segment ${index} does not decrypt: the stored upload was altered or cut short.`);
    }
  }
}
