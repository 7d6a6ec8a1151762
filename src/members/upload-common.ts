/**
 * What every upload store shares: the interface, upload ids, and streaming an upload into a sink
 * while counting its bytes and records.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError } from '../errors';
import { DEFAULT_MAX_LINE_BYTES, UploadAnalyzer, formatFromContentType, formatFromFilename } from './upload-analyzer';
import type { SourceFormat } from './types';

export interface UploadMeta {
  filename?: string;
  contentType?: string;
  /** Larger uploads fail with PAYLOAD_TOO_LARGE and leave nothing behind. */
  maxBytes: number;
  /** Record size limit used to count rows; pass the readers' `MAX_LINE_BYTES` (default 1 MiB). */
  maxLineBytes?: number;
}

export interface UploadSaved {
  uploadId: string;
  format: SourceFormat;
  bytes: number;
  /** Records an activation will receive (CSV: data rows, excluding the header; NDJSON: non-blank lines). */
  rows: number;
}

export interface UploadInfo extends UploadSaved {
  createdAt: string;
}

export interface UploadStore {
  save(input: Readable, meta: UploadMeta): Promise<UploadSaved>;
  /** A stream of the upload's bytes from `offset`; NOT_FOUND for an unknown id. */
  open(uploadId: string, offset: number): Promise<Readable>;
  info(uploadId: string): Promise<UploadInfo | undefined>;
  delete?(uploadId: string): Promise<void>;
}

/** Bytes per read: large chunks keep paging fast. */
export const READ_CHUNK_BYTES = 1024 * 1024;

const UPLOAD_ID_RE = /^upl_[a-z0-9]{8,64}$/;

export function newUploadId(): string {
  return `upl_${randomBytes(12).toString('hex')}`;
}

export function isUploadId(id: string): boolean {
  return UPLOAD_ID_RE.test(id);
}

export function declaredFormat(meta: Pick<UploadMeta, 'filename' | 'contentType'>): SourceFormat | undefined {
  return formatFromFilename(meta.filename) ?? formatFromContentType(meta.contentType);
}

/**
 * Streams `input` into `sink` chunk by chunk (pausing while the sink works), counting bytes and
 * records. Over `maxBytes` it stops writing, lets the rest of the input drain unread (so an HTTP
 * caller can still answer 413) and rejects with PAYLOAD_TOO_LARGE.
 */
export function consumeUpload(
  input: Readable,
  meta: UploadMeta,
  sink: (chunk: Buffer) => Promise<void>,
): Promise<{ format: SourceFormat; bytes: number; rows: number }> {
  const analyzer = new UploadAnalyzer(declaredFormat(meta), meta.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  let bytes = 0;
  return new Promise((resolve, reject) => {
    let settled = false;
    let inflight: Promise<void> = Promise.resolve();
    const detach = (): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      detach();
      input.on('error', () => undefined);
      input.resume();
      reject(err);
    };
    const onError = (err: unknown): void => fail(err);
    const onData = (data: Buffer | string): void => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      bytes += chunk.length;
      if (bytes > meta.maxBytes) {
        fail(new AppError('PAYLOAD_TOO_LARGE', `The upload is larger than the ${meta.maxBytes}-byte limit (UPLOAD_MAX_BYTES)`));
        return;
      }
      try {
        analyzer.push(chunk);
      } catch (e) {
        fail(e);
        return;
      }
      input.pause();
      inflight = sink(chunk).then(() => {
        if (!settled) input.resume();
      }, fail);
    };
    const onEnd = (): void => {
      if (settled) return;
      detach();
      // 'end' can fire while the last chunk is still being written: finish after it.
      void inflight.then(() => {
        if (settled) return;
        settled = true;
        try {
          resolve({ ...analyzer.finish(), bytes });
        } catch (e) {
          reject(e);
        }
      });
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.resume();
  });
}

export function uploadNotFound(uploadId: string): AppError {
  return new AppError('NOT_FOUND', `Upload '${uploadId}' does not exist; upload the file with POST /v1/uploads first`);
}
