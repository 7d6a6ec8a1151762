import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createSourceReader } from '../../../src/members/source-reader';
import { FileUploadStore } from '../../../src/members/upload-store';
import { START_CURSOR, type SourceCursor, type SourceRecord, type SourceRef } from '../../../src/members/types';
import type { RejectionRow, RejectionStore } from '../../../src/store/types';

let root: string;
let allowed: string;
let outside: string;
let uploads: FileUploadStore;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sources-'));
  allowed = path.join(root, 'allowed');
  outside = path.join(root, 'outside');
  mkdirSync(allowed);
  mkdirSync(outside);
  uploads = new FileUploadStore(path.join(root, 'uploads'));
  writeFileSync(path.join(allowed, 'p.ndjson'), '{"n":1}\n{"n":2}\n\n{"n":3}\n{"n":4}\n{"n":5}\n');
  writeFileSync(
    path.join(allowed, 'm.csv'),
    '\ufeffEmail,person.name.firstName\r\na@example.com,"Ann\nMarie"\r\nb@example.com,Bob\r\n\r\nc@example.com,"C, Jr."\r\n',
  );
  writeFileSync(path.join(allowed, 'noemail.csv'), 'name,city\nAnn,Lisbon\n');
  writeFileSync(path.join(allowed, 'empty.csv'), '');
  writeFileSync(path.join(allowed, 'notes.txt'), 'x');
  writeFileSync(path.join(outside, 'secret.ndjson'), '{"secret":true}\n');
  symlinkSync(path.join(outside, 'secret.ndjson'), path.join(allowed, 'link.ndjson'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const reader = (rejections?: RejectionStore) =>
  createSourceReader({ uploads, rejections, allowedSourceDirs: [allowed], maxLineBytes: 1 << 20 });

async function readAll(ref: SourceRef, pageSize: number, r = reader()): Promise<{ records: SourceRecord[]; cursors: SourceCursor[] }> {
  const records: SourceRecord[] = [];
  const cursors: SourceCursor[] = [];
  let cursor = START_CURSOR;
  for (let i = 0; i < 1000; i++) {
    const page = await r.readPage(ref, cursor, pageSize);
    records.push(...page.records);
    cursor = page.next;
    cursors.push(cursor);
    if (page.done) return { records, cursors };
  }
  throw new Error('no progress');
}

describe('path sources', () => {
  it('pages an NDJSON file exactly once with line numbers, and resumes from any cursor', async () => {
    const ref: SourceRef = { kind: 'path', path: path.join(allowed, 'p.ndjson') };
    const { records, cursors } = await readAll(ref, 2);
    expect(records.map((r) => [r.line, r.raw, r.format])).toEqual([
      [1, '{"n":1}', 'xdm-ndjson'],
      [2, '{"n":2}', 'xdm-ndjson'],
      [4, '{"n":3}', 'xdm-ndjson'],
      [5, '{"n":4}', 'xdm-ndjson'],
      [6, '{"n":5}', 'xdm-ndjson'],
    ]);
    const resumed = await reader().readPage(ref, cursors[0], 10);
    expect(resumed.records.map((r) => r.line)).toEqual([4, 5, 6]);
    expect(resumed.done).toBe(true);
  });

  it('pages a CSV file (BOM, CRLF, quoted newline) with its header on every record', async () => {
    const ref: SourceRef = { kind: 'path', path: path.join(allowed, 'm.csv') };
    for (const pageSize of [1, 2, 10]) {
      const { records } = await readAll(ref, pageSize);
      expect(records.map((r) => [r.line, r.raw])).toEqual([
        [2, 'a@example.com,"Ann\nMarie"'],
        [4, 'b@example.com,Bob'],
        [6, 'c@example.com,"C, Jr."'],
      ]);
      for (const r of records) expect(r).toMatchObject({ format: 'csv', header: 'Email,person.name.firstName' });
    }
    expect(await reader().describe(ref)).toEqual({ format: 'csv' });
  });

  it('fails a CSV without an email column up front, and reads an empty CSV as no records', async () => {
    await expect(reader().describe({ kind: 'path', path: path.join(allowed, 'noemail.csv') })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(reader().readPage({ kind: 'path', path: path.join(allowed, 'noemail.csv') }, START_CURSOR, 5)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await reader().readPage({ kind: 'path', path: path.join(allowed, 'empty.csv') }, START_CURSOR, 5)).toEqual({
      records: [],
      next: START_CURSOR,
      done: true,
    });
  });

  it('refuses files outside the allowed directories, including through symlinks and ..', async () => {
    for (const p of [
      path.join(outside, 'secret.ndjson'),
      path.join(allowed, 'link.ndjson'),
      path.join(allowed, '..', 'outside', 'secret.ndjson'),
      allowed,
    ]) {
      await expect(reader().readPage({ kind: 'path', path: p }, START_CURSOR, 5)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
  });

  it('reports missing files and unknown extensions', async () => {
    await expect(reader().readPage({ kind: 'path', path: path.join(allowed, 'nope.ndjson') }, START_CURSOR, 5)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(reader().readPage({ kind: 'path', path: path.join(allowed, 'notes.txt') }, START_CURSOR, 5)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});

describe('upload sources', () => {
  it('reads an uploaded CSV by id and knows its record count', async () => {
    const saved = await uploads.save(Readable.from([Buffer.from('email,status\na@example.com,exited\nb@example.com,\n')]), {
      filename: 'x.csv',
      maxBytes: 1000,
    });
    const ref: SourceRef = { kind: 'upload', uploadId: saved.uploadId };
    expect(await reader().describe(ref)).toEqual({ format: 'csv', totalRecords: 2 });
    const { records } = await readAll(ref, 1);
    expect(records.map((r) => [r.line, r.raw, r.header])).toEqual([
      [2, 'a@example.com,exited', 'email,status'],
      [3, 'b@example.com,', 'email,status'],
    ]);
  });

  it('reports an unknown upload as NOT_FOUND', async () => {
    await expect(reader().readPage({ kind: 'upload', uploadId: 'upl_missing00000' }, START_CURSOR, 5)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('rejection sources', () => {
  const rows: RejectionRow[] = [1, 2, 3, 4, 5].map((seq) => ({
    seq,
    activationId: 'act-1',
    line: seq * 10,
    reason: { code: 'INVALID_NUMBER', message: 'm', origin: 'validation' },
    record: { line: seq * 10, format: 'xdm-ndjson', raw: `{"seq":${seq}}` },
    createdAt: '2024-01-01T00:00:00Z',
  }));
  const store: RejectionStore = {
    add: async () => undefined,
    page: async (id, afterSeq, limit) => rows.filter((r) => r.activationId === id && r.seq > afterSeq).slice(0, limit),
    count: async (id) => rows.filter((r) => r.activationId === id).length,
  };

  it('pages the stored records of an earlier run by seq', async () => {
    const ref: SourceRef = { kind: 'rejections', activationId: 'act-1' };
    const first = await reader(store).readPage(ref, START_CURSOR, 2);
    expect(first).toEqual({ records: [rows[0].record, rows[1].record], next: { offset: 2, line: 3 }, done: false });
    const { records } = await readAll(ref, 2, reader(store));
    expect(records.map((r) => r.line)).toEqual([10, 20, 30, 40, 50]);
    expect(await reader(store).describe(ref)).toEqual({ format: 'xdm-ndjson', totalRecords: 5 });
  });

  it('needs a rejection store', async () => {
    await expect(reader().readPage({ kind: 'rejections', activationId: 'a' }, START_CURSOR, 2)).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
