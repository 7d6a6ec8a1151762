/**
 * One entry point for activities: read a page of any `SourceRef` from a cursor.
 *  - `upload`: the upload store (format detected at upload);
 *  - `path`: a file on the worker's filesystem, only inside `allowedSourceDirs` (after resolving
 *    symlinks), format by extension;
 *  - `rejections`: the stored rejections of an earlier run; the cursor's `offset` is the last `seq` read;
 *  - `sql`: a PostgreSQL query through a source connection, by keyset (src/members/sql-source.ts).
 */
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../errors';
import type { RejectionStore } from '../store/types';
import { readCsvHeader, readCsvPage, type CsvHeaderInfo, type OpenAt } from './csv-source';
import { readNdjsonPage } from './ndjson-source';
import type { SqlSourceReader } from './sql-source';
import { formatFromFilename } from './upload-analyzer';
import { READ_CHUNK_BYTES, type UploadStore } from './upload-common';
import type { SourceCursor, SourceFormat, SourcePage, SourceRef } from './types';

export interface SourceReaderDeps {
  uploads: UploadStore;
  rejections?: RejectionStore;
  allowedSourceDirs: string[];
  maxLineBytes: number;
  /** SQL sources (absent: a `sql` source is refused). */
  sql?: SqlSourceReader;
}

export interface SourceDescription {
  format: SourceFormat;
  /** Known for uploads (counted at upload) and rejections; undefined for files on disk. */
  totalRecords?: number;
}

export interface SourceReader {
  readPage(ref: SourceRef, cursor: SourceCursor, pageSize: number): Promise<SourcePage>;
  describe(ref: SourceRef): Promise<SourceDescription>;
}

interface ByteSource {
  format: SourceFormat;
  open: OpenAt;
  /** Key for caching the CSV header; undefined = don't cache (a file on disk may change). */
  cacheKey?: string;
  totalRecords?: number;
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' ? false : !rel.startsWith('..') && !path.isAbsolute(rel);
}

export function createSourceReader(deps: SourceReaderDeps): SourceReader {
  const headerCache = new Map<string, CsvHeaderInfo>();

  /**
   * The real path of a file inside the allowed folders. A file outside them gets one answer whether or
   * not it exists (the API must not tell what else is on the worker's disk); only a path inside the
   * allowed folders is said to be missing.
   */
  async function resolvePath(p: string): Promise<string> {
    const requested = path.resolve(p);
    const real = await realpath(requested).catch(() => undefined);
    const dirs: string[] = [];
    for (const dir of deps.allowedSourceDirs) {
      dirs.push(path.resolve(dir));
      const realDir = await realpath(path.resolve(dir)).catch(() => undefined);
      if (realDir) dirs.push(realDir);
    }
    if (real && dirs.some((d) => isInside(d, real))) return real;
    if (!real && dirs.some((d) => isInside(d, requested))) {
      throw new AppError('NOT_FOUND', `Source file '${p}' does not exist or cannot be read by the worker`);
    }
    throw new AppError(
      'BAD_REQUEST',
      `Source path '${p}' is outside the directories the worker may read; put the file under one of the allowed source directories or upload it with POST /v1/uploads`,
    );
  }

  function requireSql(): SqlSourceReader {
    if (!deps.sql) throw new AppError('INTERNAL', 'This worker has no SQL source reader configured');
    return deps.sql;
  }

  async function byteSource(ref: Extract<SourceRef, { kind: 'upload' | 'path' }>): Promise<ByteSource> {
    if (ref.kind === 'upload') {
      const info = await deps.uploads.info(ref.uploadId);
      if (!info) throw new AppError('NOT_FOUND', `Upload '${ref.uploadId}' does not exist; upload the file with POST /v1/uploads first`);
      return {
        format: info.format,
        open: (offset) => deps.uploads.open(ref.uploadId, offset),
        cacheKey: ref.uploadId,
        totalRecords: info.rows,
      };
    }
    const file = await resolvePath(ref.path);
    const format = formatFromFilename(file);
    if (!format) throw new AppError('BAD_REQUEST', `Source path '${ref.path}' must end in .ndjson, .jsonl, .json (XDM profiles) or .csv`);
    const open = async (offset: number): Promise<Readable> =>
      createReadStream(file, { start: Math.max(0, offset), highWaterMark: READ_CHUNK_BYTES });
    return { format, open };
  }

  async function csvHeader(src: ByteSource): Promise<CsvHeaderInfo | undefined> {
    const cached = src.cacheKey ? headerCache.get(src.cacheKey) : undefined;
    if (cached) return cached;
    const header = await readCsvHeader(src.open, deps);
    if (header && src.cacheKey) {
      if (headerCache.size >= 100) headerCache.clear(); // bounded; headers are cheap to re-read
      headerCache.set(src.cacheKey, header);
    }
    return header;
  }

  function requireRejections(): RejectionStore {
    if (!deps.rejections) throw new AppError('INTERNAL', 'This worker has no rejection store configured');
    return deps.rejections;
  }

  return {
    async readPage(ref, cursor, pageSize) {
      if (ref.kind === 'sql') return requireSql().readPage(ref, cursor, pageSize);
      if (ref.kind === 'rejections') {
        const rows = await requireRejections().page(ref.activationId, cursor.offset, pageSize);
        const last = rows[rows.length - 1];
        return {
          records: rows.map((r) => r.record),
          next: last ? { offset: last.seq, line: last.seq + 1 } : cursor,
          done: rows.length < pageSize,
        };
      }
      const src = await byteSource(ref);
      if (src.format === 'csv') {
        const header = await csvHeader(src);
        if (!header) return { records: [], next: cursor, done: true }; // empty file
        return readCsvPage(src.open, cursor, pageSize, { maxLineBytes: deps.maxLineBytes, header });
      }
      return readNdjsonPage(await src.open(cursor.offset), cursor, pageSize, deps);
    },

    async describe(ref) {
      if (ref.kind === 'sql') return { format: 'csv', totalRecords: (await requireSql().describe(ref)).totalRecords };
      if (ref.kind === 'rejections') {
        const store = requireRejections();
        const [first] = await store.page(ref.activationId, 0, 1);
        return { format: first?.record.format ?? 'xdm-ndjson', totalRecords: await store.count(ref.activationId) };
      }
      const src = await byteSource(ref);
      // Checks a CSV header up front, so a bad file fails before anything is sent.
      if (src.format === 'csv') await csvHeader(src);
      return { format: src.format, ...(src.totalRecords === undefined ? {} : { totalRecords: src.totalRecords }) };
    },
  };
}
