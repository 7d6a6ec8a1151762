import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { AppError } from '../../../src/errors';
import { formatFromContentType, formatFromFilename } from '../../../src/members/upload-analyzer';
import { consumeUpload, FileUploadStore } from '../../../src/members/upload-store';

let dir: string;
let store: FileUploadStore;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'uploads-'));
  store = new FileUploadStore(path.join(dir, 'uploads'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const input = (text: string | Buffer, chunk = 5): Readable => {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts);
};

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('format detection', () => {
  it.each([
    ['profiles.ndjson', 'xdm-ndjson'],
    ['PROFILES.JSONL', 'xdm-ndjson'],
    ['export.json', 'xdm-ndjson'],
    ['members.csv', 'csv'],
    ['members.txt', undefined],
    [undefined, undefined],
  ])('filename %p → %p', (name, format) => expect(formatFromFilename(name)).toBe(format));

  it.each([
    ['text/csv; charset=utf-8', 'csv'],
    ['application/x-ndjson', 'xdm-ndjson'],
    ['application/jsonl', 'xdm-ndjson'],
    ['application/json', 'xdm-ndjson'],
    ['text/plain', undefined],
    ['application/octet-stream', undefined],
  ])('content type %p → %p', (type, format) => expect(formatFromContentType(type)).toBe(format));
});

describe('FileUploadStore', () => {
  it('stores an NDJSON upload, counts non-blank lines, and reads back from any offset', async () => {
    const text = '{"a":1}\n\n{"b":2}\r\n{"c":3}';
    const saved = await store.save(input(text), { filename: 'p.ndjson', maxBytes: 1000 });
    expect(saved).toEqual({ uploadId: expect.stringMatching(/^upl_[0-9a-f]{24}$/), format: 'xdm-ndjson', bytes: text.length, rows: 3 });
    const info = await store.info(saved.uploadId);
    expect(info).toMatchObject({ ...saved, createdAt: expect.any(String) });
    expect(await readAll(await store.open(saved.uploadId, 0))).toBe(text);
    expect(await readAll(await store.open(saved.uploadId, 9))).toBe(text.slice(9));
    expect(await readAll(await store.open(saved.uploadId, 1000))).toBe('');
  });

  it('counts CSV data rows (not the header), with quoted newlines', async () => {
    const text = 'email,note\na@example.com,"x\ny"\n\nb@example.com,z\n';
    expect(await store.save(input(text, 3), { contentType: 'text/csv', maxBytes: 1000 })).toMatchObject({ format: 'csv', rows: 2 });
  });

  it('sniffs the format when neither name nor type says it', async () => {
    expect(await store.save(input('\ufeff\n  {"a":1}\n', 1), { filename: 'data.bin', maxBytes: 100 })).toMatchObject({
      format: 'xdm-ndjson',
      rows: 1,
    });
    expect(await store.save(input('email\na@example.com\n', 1), { contentType: 'text/plain', maxBytes: 100 })).toMatchObject({
      format: 'csv',
      rows: 1,
    });
    expect(await store.save(input(''), { maxBytes: 100 })).toMatchObject({ format: 'xdm-ndjson', rows: 0, bytes: 0 });
  });

  it('counts rows with the readers’ record size limit', async () => {
    const text = `{"a":1}\n{"b":"${'x'.repeat(100)}"}\n`;
    expect(await store.save(input(text), { filename: 'p.ndjson', maxBytes: 1000, maxLineBytes: 50 })).toMatchObject({ rows: 2 });
    const csv = `email\n"a@example.com\n${'x\n'.repeat(40)}`; // unclosed quote: each line becomes a record
    expect(await store.save(input(csv), { filename: 'm.csv', maxBytes: 1000, maxLineBytes: 50 })).toMatchObject({ rows: 41 });
  });

  it('refuses an upload over maxBytes with PAYLOAD_TOO_LARGE, leaves nothing behind, and drains the input', async () => {
    const src = input('x'.repeat(500), 10);
    const err = await store.save(src, { filename: 'big.csv', maxBytes: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('PAYLOAD_TOO_LARGE');
    expect((err as AppError).status).toBe(413);
    expect(readdirSync(path.join(dir, 'uploads'))).toEqual([]);
    await new Promise((resolve) => (src.readableEnded ? resolve(undefined) : src.once('end', resolve)));
    expect(src.destroyed && !src.readableEnded).toBe(false);
  });

  it('answers unknown or malformed ids with undefined / NOT_FOUND', async () => {
    expect(await store.info('upl_doesnotexist00')).toBeUndefined();
    expect(await store.info('../../etc/passwd')).toBeUndefined();
    await expect(store.open('upl_doesnotexist00', 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.open('../secret', 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('deletes an upload', async () => {
    const saved = await store.save(input('{"a":1}\n'), { maxBytes: 100 });
    await store.delete(saved.uploadId);
    expect(await store.info(saved.uploadId)).toBeUndefined();
  });
});

describe('consumeUpload', () => {
  it('finishes only after the sink has written the last chunk', async () => {
    const written: string[] = [];
    const slowSink = async (chunk: Buffer): Promise<void> => {
      await new Promise((r) => setTimeout(r, 20));
      written.push(chunk.toString());
    };
    const result = await consumeUpload(input('{"a":1}\n{"b":2}\n', 4), { maxBytes: 100 }, slowSink);
    expect(result).toEqual({ format: 'xdm-ndjson', bytes: 16, rows: 2 });
    expect(written.join('')).toBe('{"a":1}\n{"b":2}\n');
  });

  it('rejects with the sink’s error', async () => {
    const err = await consumeUpload(input('abc'), { maxBytes: 100 }, async () => {
      throw new Error('disk full');
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('disk full');
  });
});
