/**
 * Upload store: files posted to `POST /v1/uploads`, stored whole, then read by activations from any
 * byte offset. `FileUploadStore` keeps them under DATA_DIR/uploads (one machine); `PgUploadStore`
 * (./pg-upload-store) keeps them in PostgreSQL so workers on several hosts can read them.
 * With a keyring (the codec keys; the services always pass one) uploads are encrypted as they stream
 * in (../secrets/upload-cipher.ts); files are 0600 in a 0700 folder either way.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir, open as openFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Keyring } from '../secrets/keyring';
import { SegmentDecryptor, SegmentEncryptor, TAG_BYTES, type UploadEncryption } from '../secrets/upload-cipher';
import {
  READ_CHUNK_BYTES,
  consumeUpload,
  isUploadId,
  newUploadId,
  uploadNotFound,
  type UploadInfo,
  type UploadMeta,
  type UploadSaved,
  type UploadStore,
} from './upload-common';

export * from './upload-common';
export { PgUploadStore, type PgUploadStoreOptions } from './pg-upload-store';

/** Plaintext from `offset` of an encrypted upload file, decrypting whole segments (about 1 MiB per read). */
async function* readSegments(file: string, decryptor: SegmentDecryptor, offset: number): AsyncGenerator<Buffer> {
  const stored = FILE_SEGMENT_BYTES + TAG_BYTES;
  const fh = await openFile(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const last = Math.max(0, Math.ceil(size / stored) - 1);
    let index = Math.floor(offset / FILE_SEGMENT_BYTES);
    let skip = offset % FILE_SEGMENT_BYTES;
    const perRead = Math.max(1, Math.floor(READ_CHUNK_BYTES / stored));
    while (index <= last) {
      const count = Math.min(perRead, last - index + 1);
      const buf = Buffer.alloc(count * stored);
      const { bytesRead } = await fh.read(buf, 0, buf.length, index * stored);
      const out: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        const seg = buf.subarray(i * stored, Math.min((i + 1) * stored, bytesRead));
        const plain = decryptor.open(index + i, seg, index + i === last);
        out.push(skip > 0 ? plain.subarray(skip) : plain);
        skip = 0;
      }
      index += count;
      const chunk = Buffer.concat(out);
      if (chunk.length) yield chunk;
    }
  } finally {
    await fh.close();
  }
}

function writeChunk(out: WriteStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

function closeStream(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

/** Plaintext bytes per encrypted segment of an upload file (each stored with a 16-byte tag). */
export const FILE_SEGMENT_BYTES = 64 * 1024;

/** What `<id>.json` holds: the upload's info, and how its data is encrypted (absent: plaintext, from before). */
interface StoredMeta extends UploadInfo {
  encryption?: UploadEncryption;
}

export interface FileUploadStoreOptions {
  /** Encrypts new uploads with its primary key (the codec keys); without one they are stored in plaintext. */
  keyring?: Keyring;
}

/** Uploads as files: `<id>.data` plus `<id>.json` metadata, written under temp names then renamed. */
export class FileUploadStore implements UploadStore {
  private dirReady: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly options: FileUploadStoreOptions = {},
  ) {}

  /** The folder, 0700 (also tightened when an older version created it 0755). */
  private ensureDir(): Promise<void> {
    this.dirReady ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await chmod(this.dir, 0o700);
    })();
    return this.dirReady;
  }

  private dataPath(id: string): string {
    return path.join(this.dir, `${id}.data`);
  }

  private metaPath(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  async save(input: Readable, meta: UploadMeta): Promise<UploadSaved> {
    await this.ensureDir();
    const uploadId = newUploadId();
    const tmpData = path.join(this.dir, `.${uploadId}.data.partial`);
    const tmpMeta = path.join(this.dir, `.${uploadId}.json.partial`);
    const out = createWriteStream(tmpData, { flags: 'wx', mode: 0o600 });
    const enc = this.options.keyring ? new SegmentEncryptor(this.options.keyring, uploadId, FILE_SEGMENT_BYTES) : undefined;
    try {
      const result = await consumeUpload(input, meta, async (chunk) => {
        if (!enc) return writeChunk(out, chunk);
        const segments = enc.push(chunk);
        if (segments.length) await writeChunk(out, segments.length === 1 ? segments[0] : Buffer.concat(segments));
      });
      if (enc) await writeChunk(out, enc.finish());
      await closeStream(out);
      const info: StoredMeta = { uploadId, ...result, createdAt: new Date().toISOString(), ...(enc ? { encryption: enc.encryption } : {}) };
      await writeFile(tmpMeta, JSON.stringify(info), { mode: 0o600 });
      // Data first: metadata present ⇒ data complete.
      await rename(tmpData, this.dataPath(uploadId));
      await rename(tmpMeta, this.metaPath(uploadId));
      return { uploadId, format: result.format, bytes: result.bytes, rows: result.rows };
    } catch (e) {
      out.destroy();
      await Promise.all([rm(tmpData, { force: true }), rm(tmpMeta, { force: true })]);
      throw e;
    }
  }

  async open(uploadId: string, offset: number): Promise<Readable> {
    if (!isUploadId(uploadId)) throw uploadNotFound(uploadId);
    const file = this.dataPath(uploadId);
    const meta = await this.storedMeta(uploadId);
    if (!meta) throw uploadNotFound(uploadId);
    if (!meta.encryption) return createReadStream(file, { start: Math.max(0, offset), highWaterMark: READ_CHUNK_BYTES });
    if (!this.options.keyring) throw new Error(`Upload ${uploadId} is encrypted and this process has no codec keys to read it.`);
    const decryptor = new SegmentDecryptor(this.options.keyring, meta.encryption, uploadId);
    return Readable.from(readSegments(file, decryptor, Math.max(0, offset)), { objectMode: false });
  }

  private async storedMeta(uploadId: string): Promise<StoredMeta | undefined> {
    if (!isUploadId(uploadId)) return undefined;
    try {
      return JSON.parse(await readFile(this.metaPath(uploadId), 'utf8')) as StoredMeta;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async info(uploadId: string): Promise<UploadInfo | undefined> {
    const meta = await this.storedMeta(uploadId);
    if (!meta) return undefined;
    const { encryption: _encryption, ...info } = meta;
    return info;
  }

  async delete(uploadId: string): Promise<void> {
    if (!isUploadId(uploadId)) return;
    await rm(this.metaPath(uploadId), { force: true });
    await rm(this.dataPath(uploadId), { force: true });
  }
}
