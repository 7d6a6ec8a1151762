/**
 * Uploads in PostgreSQL, for workers on several hosts: the file is split into `bytea` rows of exactly
 * CHUNK_BYTES (the last one shorter), so a read at any offset starts at row `offset / CHUNK_BYTES`.
 * An upload is written in one transaction: a failed or oversized upload leaves nothing behind.
 */
import { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import { AppError } from '../errors';
import {
  consumeUpload,
  isUploadId,
  newUploadId,
  uploadNotFound,
  type UploadInfo,
  type UploadMeta,
  type UploadSaved,
  type UploadStore,
} from './upload-common';

export const CHUNK_BYTES = 1024 * 1024;

export interface PgUploadStoreOptions {
  /** Schema for the tables (created if missing); default `public`. */
  schema?: string;
  /** Prefix of the table names (`<prefix>uploads`, `<prefix>upload_chunks`); default ''. */
  tablePrefix?: string;
}

const IDENT_RE = /^[a-z_][a-z0-9_]*$/;

export class PgUploadStore implements UploadStore {
  private readonly uploads: string;
  private readonly chunks: string;
  private readonly schema: string;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    options: PgUploadStoreOptions = {},
  ) {
    this.schema = options.schema ?? 'public';
    const prefix = options.tablePrefix ?? '';
    if (!IDENT_RE.test(this.schema) || (prefix && !IDENT_RE.test(prefix))) {
      throw new AppError('INTERNAL', 'PgUploadStore: schema and table prefix must be lowercase identifiers');
    }
    this.uploads = `"${this.schema}"."${prefix}uploads"`;
    this.chunks = `"${this.schema}"."${prefix}upload_chunks"`;
  }

  /** Creates schema and tables once per process; an advisory lock keeps concurrent hosts from racing. */
  private ensure(): Promise<void> {
    this.ready ??= (async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`upload-store:${this.uploads}`]);
        if (this.schema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.uploads} (
          upload_id text PRIMARY KEY,
          format text NOT NULL,
          bytes bigint NOT NULL,
          rows bigint NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now())`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.chunks} (
          upload_id text NOT NULL REFERENCES ${this.uploads}(upload_id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
          idx integer NOT NULL,
          data bytea NOT NULL,
          PRIMARY KEY (upload_id, idx))`);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        this.ready = undefined;
        throw e;
      } finally {
        client.release();
      }
    })();
    return this.ready;
  }

  async save(input: Readable, meta: UploadMeta): Promise<UploadSaved> {
    await this.ensure();
    const uploadId = newUploadId();
    const client: PoolClient = await this.pool.connect();
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let idx = 0;
    const flush = async (): Promise<void> => {
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await client.query(`INSERT INTO ${this.chunks} (upload_id, idx, data) VALUES ($1, $2, $3)`, [uploadId, idx++, data]);
    };
    try {
      await client.query('BEGIN');
      const result = await consumeUpload(input, meta, async (chunk) => {
        // Re-cut the input into rows of exactly CHUNK_BYTES.
        let off = 0;
        while (off < chunk.length) {
          const take = Math.min(CHUNK_BYTES - pendingBytes, chunk.length - off);
          pending.push(chunk.subarray(off, off + take));
          pendingBytes += take;
          off += take;
          if (pendingBytes === CHUNK_BYTES) await flush();
        }
      });
      if (pendingBytes > 0) await flush();
      await client.query(`INSERT INTO ${this.uploads} (upload_id, format, bytes, rows) VALUES ($1, $2, $3, $4)`, [
        uploadId,
        result.format,
        result.bytes,
        result.rows,
      ]);
      await client.query('COMMIT');
      return { uploadId, ...result };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async open(uploadId: string, offset: number): Promise<Readable> {
    const info = await this.info(uploadId);
    if (!info) throw uploadNotFound(uploadId);
    const start = Math.max(0, offset);
    const pool = this.pool;
    const chunks = this.chunks;
    async function* read(): AsyncGenerator<Buffer> {
      let idx = Math.floor(start / CHUNK_BYTES);
      let skip = start % CHUNK_BYTES;
      for (;;) {
        const res = await pool.query<{ data: Buffer }>(`SELECT data FROM ${chunks} WHERE upload_id = $1 AND idx = $2`, [uploadId, idx]);
        const data = res.rows[0]?.data;
        if (!data) return;
        if (skip < data.length) yield skip > 0 ? data.subarray(skip) : data;
        if (data.length < CHUNK_BYTES) return;
        skip = 0;
        idx++;
      }
    }
    return Readable.from(read(), { objectMode: false });
  }

  async info(uploadId: string): Promise<UploadInfo | undefined> {
    if (!isUploadId(uploadId)) return undefined;
    await this.ensure();
    const res = await this.pool.query<{ upload_id: string; format: UploadInfo['format']; bytes: string; rows: string; created_at: Date }>(
      `SELECT upload_id, format, bytes, rows, created_at FROM ${this.uploads} WHERE upload_id = $1`,
      [uploadId],
    );
    const r = res.rows[0];
    if (!r) return undefined;
    return { uploadId: r.upload_id, format: r.format, bytes: Number(r.bytes), rows: Number(r.rows), createdAt: r.created_at.toISOString() };
  }

  async delete(uploadId: string): Promise<void> {
    if (!isUploadId(uploadId)) return;
    await this.ensure();
    await this.pool.query(`DELETE FROM ${this.uploads} WHERE upload_id = $1`, [uploadId]);
  }
}
