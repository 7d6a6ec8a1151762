/**
 * Upload store: files posted to `POST /v1/uploads`, stored whole, then read by activations from any
 * byte offset. `FileUploadStore` keeps them under DATA_DIR/uploads (one machine); `PgUploadStore`
 * (./pg-upload-store) keeps them in PostgreSQL so workers on several hosts can read them.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
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

/** Uploads as files: `<id>.data` plus `<id>.json` metadata, written under temp names then renamed. */
export class FileUploadStore implements UploadStore {
  constructor(private readonly dir: string) {}

  private dataPath(id: string): string {
    return path.join(this.dir, `${id}.data`);
  }

  private metaPath(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  async save(input: Readable, meta: UploadMeta): Promise<UploadSaved> {
    await mkdir(this.dir, { recursive: true });
    const uploadId = newUploadId();
    const tmpData = path.join(this.dir, `.${uploadId}.data.partial`);
    const tmpMeta = path.join(this.dir, `.${uploadId}.json.partial`);
    const out = createWriteStream(tmpData, { flags: 'wx' });
    try {
      const result = await consumeUpload(input, meta, (chunk) => writeChunk(out, chunk));
      await closeStream(out);
      const info: UploadInfo = { uploadId, ...result, createdAt: new Date().toISOString() };
      await writeFile(tmpMeta, JSON.stringify(info));
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
    try {
      await stat(this.metaPath(uploadId));
    } catch {
      throw uploadNotFound(uploadId);
    }
    return createReadStream(file, { start: Math.max(0, offset), highWaterMark: READ_CHUNK_BYTES });
  }

  async info(uploadId: string): Promise<UploadInfo | undefined> {
    if (!isUploadId(uploadId)) return undefined;
    try {
      return JSON.parse(await readFile(this.metaPath(uploadId), 'utf8')) as UploadInfo;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async delete(uploadId: string): Promise<void> {
    if (!isUploadId(uploadId)) return;
    await rm(this.metaPath(uploadId), { force: true });
    await rm(this.dataPath(uploadId), { force: true });
  }
}
