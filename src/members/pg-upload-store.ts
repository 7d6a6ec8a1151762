/**
 * Uploads in PostgreSQL, for workers on several hosts: the file is split into `bytea` rows of exactly
 * CHUNK_BYTES (the last one shorter), so a read at any offset starts at row `offset / CHUNK_BYTES`.
 * An upload is written in one transaction: a failed or oversized upload leaves nothing behind.
 * With a keyring (the codec keys) each row is one encrypted segment (../secrets/upload-cipher.ts) and
 * `key_id` names its key; rows of uploads from before that column are plaintext.
 */
import { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import { AppError } from '../errors';
import type { Keyring } from '../secrets/keyring';
import { SegmentDecryptor, SegmentEncryptor, UPLOAD_CIPHER } from '../secrets/upload-cipher';
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
  /** Encrypts new uploads with its primary key (the codec keys); without one they are stored in plaintext. */
  keyring?: Keyring;
}

interface UploadRow {
  upload_id: string;
  format: UploadInfo['format'];
  bytes: string;
  rows: string;
  created_at: Date;
  key_id: string | null;
}

const IDENT_RE = /^[a-z_][a-z0-9_]*$/;

export class PgUploadStore implements UploadStore {
  private readonly uploads: string;
  private readonly chunks: string;
  private readonly schema: string;
  private ready: Promise<void> | undefined;
  private readonly keyring: Keyring | undefined;

  constructor(
    private readonly pool: Pool,
    options: PgUploadStoreOptions = {},
  ) {
    this.keyring = options.keyring;
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
        await client.query(`ALTER TABLE ${this.uploads} ADD COLUMN IF NOT EXISTS key_id text`);
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
    const enc = this.keyring ? new SegmentEncryptor(this.keyring, uploadId, CHUNK_BYTES) : undefined;
    const insertRow = async (data: Buffer): Promise<void> => {
      await client.query(`INSERT INTO ${this.chunks} (upload_id, idx, data) VALUES ($1, $2, $3)`, [uploadId, idx++, data]);
    };
    const flush = async (): Promise<void> => {
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await client.query(`INSERT INTO ${this.chunks} (upload_id, idx, data) VALUES ($1, $2, $3)`, [uploadId, idx++, data]);
    };
    try {
      await client.query('BEGIN');
      const result = await consumeUpload(input, meta, async (chunk) => {
        if (enc) {
          for (const segment of enc.push(chunk)) await insertRow(segment);
          return;
        }
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
      if (enc) await insertRow(enc.finish());
      if (pendingBytes > 0) await flush();
      await client.query(`INSERT INTO ${this.uploads} (upload_id, format, bytes, rows, key_id) VALUES ($1, $2, $3, $4, $5)`, [
        uploadId,
        result.format,
        result.bytes,
        result.rows,
        enc ? enc.encryption.keyId : null,
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
    const row = await this.row(uploadId);
    if (!row) throw uploadNotFound(uploadId);
    const start = Math.max(0, offset);
    const pool = this.pool;
    const chunks = this.chunks;
    if (row.key_id) {
      if (!this.keyring) throw new Error(`Upload ${uploadId} is encrypted and this process has no codec keys to read it.`);
      const decryptor = new SegmentDecryptor(this.keyring, { scheme: UPLOAD_CIPHER, keyId: row.key_id }, uploadId);
      const last = Math.max(0, Math.ceil(Number(row.bytes) / CHUNK_BYTES) - 1);
      async function* readEncrypted(): AsyncGenerator<Buffer> {
        let skip = start % CHUNK_BYTES;
        for (let idx = Math.floor(start / CHUNK_BYTES); idx <= last; idx++) {
          const res = await pool.query<{ data: Buffer }>(`SELECT data FROM ${chunks} WHERE upload_id = $1 AND idx = $2`, [uploadId, idx]);
          const data = res.rows[0]?.data;
          if (!data) throw new Error(`Upload ${uploadId} is missing its segment ${idx}: the stored upload was altered.`);
          const plain = decryptor.open(idx, data, idx === last);
          if (skip < plain.length) yield skip > 0 ? plain.subarray(skip) : plain;
          skip = 0;
        }
      }
      return Readable.from(readEncrypted(), { objectMode: false });
    }
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

  private async row(uploadId: string): Promise<UploadRow | undefined> {
    if (!isUploadId(uploadId)) return undefined;
    await this.ensure();
    const res = await this.pool.query<UploadRow>(
      `SELECT upload_id, format, bytes, rows, created_at, key_id FROM ${this.uploads} WHERE upload_id = $1`,
      [uploadId],
    );
    return res.rows[0];
  }

  async info(uploadId: string): Promise<UploadInfo | undefined> {
    const r = await this.row(uploadId);
    if (!r) return undefined;
    return { uploadId: r.upload_id, format: r.format, bytes: Number(r.bytes), rows: Number(r.rows), createdAt: r.created_at.toISOString() };
  }

  async delete(uploadId: string): Promise<void> {
    if (!isUploadId(uploadId)) return;
    await this.ensure();
    await this.pool.query(`DELETE FROM ${this.uploads} WHERE upload_id = $1`, [uploadId]);
  }
}
