/**
 * Fault test 5's bad-input corpus through read → parse → prepare → merge (the production `preparePage`
 * of the page activity): every record gets exactly
 * the expected outcome, nothing else, and received = ready + rejected + skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { preparePage } from '../../../src/delivery/process-page';
import { audiencePropertyName } from '../../../src/mapping/audience-property';
import { createSourceReader } from '../../../src/members/source-reader';
import { FileUploadStore } from '../../../src/members/upload-store';
import { START_CURSOR, type SourceRecord } from '../../../src/members/types';
import {
  corpusAudience,
  corpusAudiencePropertyName,
  corpusExpected,
  corpusMapping,
  corpusMaxLineBytes,
  corpusProperties,
  materializeBadInputCorpus,
  type ExpectedOutcome,
} from '../../fixtures/bad-input/corpus';

let dir: string;
let files: { ndjsonPath: string; csvPath: string };

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bad-input-'));
  files = materializeBadInputCorpus(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(file: string, pageSize: number): Promise<SourceRecord[]> {
  const reader = createSourceReader({
    uploads: new FileUploadStore(path.join(dir, 'uploads')),
    allowedSourceDirs: [dir],
    maxLineBytes: corpusMaxLineBytes,
  });
  const records: SourceRecord[] = [];
  let cursor = START_CURSOR;
  for (;;) {
    const page = await reader.readPage({ kind: 'path', path: file }, cursor, pageSize);
    records.push(...page.records);
    cursor = page.next;
    if (page.done) return records;
  }
}

function outcomes(records: SourceRecord[]): ExpectedOutcome[] {
  const batch = preparePage(records, {
    audienceId: corpusAudience.id,
    mapping: corpusMapping,
    properties: new Map(corpusProperties.map((p) => [p.name, p])),
    audiencePropertyName: audiencePropertyName(corpusAudience.id),
  });
  const all: ExpectedOutcome[] = [
    ...batch.ready.map((c) => ({ line: c.line, outcome: 'ready' as const, properties: c.properties })),
    ...batch.rejections.map((r) => ({
      line: r.line,
      outcome: 'rejected' as const,
      code: r.reason.code,
      ...(r.reason.field && r.reason.origin === 'validation' ? { field: r.reason.field } : {}),
    })),
    ...batch.skipped.map((s) => ({ line: s.line, outcome: 'skipped' as const, code: s.reason.code })),
  ];
  expect(all).toHaveLength(records.length); // nothing lost, nothing counted twice
  expect(batch.counts.rejected).toBe(batch.rejections.length); // the page's counts say the same
  return all.sort((a, b) => a.line - b.line);
}

const strip = (list: ExpectedOutcome[]) => list.map(({ generated: _g, ...rest }) => rest);

describe('bad-input corpus', () => {
  it('names the audience property as the fixture expects', () => {
    expect(audiencePropertyName(corpusAudience.id)).toBe(corpusAudiencePropertyName);
  });

  for (const file of ['profiles.ndjson', 'members.csv'] as const) {
    it(`${file}: every record has exactly its expected outcome`, async () => {
      const records = await readAll(file === 'members.csv' ? files.csvPath : files.ndjsonPath, 1000);
      expect(outcomes(records)).toEqual(strip(corpusExpected[file]));
    });

    it(`${file}: the same outcomes when read in pages of 3`, async () => {
      const records = await readAll(file === 'members.csv' ? files.csvPath : files.ndjsonPath, 3);
      expect(outcomes(records)).toEqual(strip(corpusExpected[file]));
    });
  }

  it('rejection messages never contain the record values', async () => {
    const records = await readAll(files.ndjsonPath, 1000);
    const batch = preparePage(records, {
      audienceId: corpusAudience.id,
      mapping: corpusMapping,
      properties: new Map(corpusProperties.map((p) => [p.name, p])),
      audiencePropertyName: corpusAudiencePropertyName,
    });
    for (const r of batch.rejections) {
      for (const secret of [
        'not-an-email',
        'john doe',
        '1,234',
        'maybe',
        '31/12/1990',
        'yesterday',
        'prospect',
        'cooking',
        'lots',
        'broken@example.com',
        'xxxxxxxx',
      ]) {
        expect(r.reason.message).not.toContain(secret);
      }
    }
  });
});
