/** The CLI's dry-run output: the plan rows of the summary and the per-member table. */
import { printPlanLines, printSummary } from '../../../src/cli/render';

test('a dry run summary says nothing was written and lists the plan', () => {
  const out: string[] = [];
  printSummary(
    {
      activationId: 'act-1',
      status: 'completed',
      destinationId: 'dst-1',
      audience: { id: 'a', name: 'A' },
      webUiUrl: 'http://ui',
      summary: {
        received: 3,
        upserted: 0,
        created: 0,
        updated: 0,
        rejected: 0,
        skipped: 3,
        rejectedByReason: {},
        skippedByReason: { WOULD_CREATE: 1, WOULD_UPDATE: 1, UNCHANGED: 1 },
        startedAt: '2026-01-01T00:00:00Z',
        finishedAt: '2026-01-01T00:00:01Z',
        status: 'completed',
        pages: 1,
        dryRun: true,
        plan: { create: 1, update: 1, unchanged: 1, exit: 0, reject: 0, listAdd: 0, listRemove: 0, propertiesToCreate: ['hs_aud_a'] },
      },
    },
    (s) => out.push(s),
  );
  const text = out.join('\n');
  expect(text).toContain('DRY RUN');
  expect(text).toMatch(/would create\s+1/);
  expect(text).toMatch(/properties to create\s+hs_aud_a/);
});

test('plan lines: changes old → new, reasons for skips and rejections', () => {
  const out: string[] = [];
  printPlanLines(
    [
      { line: 1, email: 'a@x.com', action: 'update', changes: [{ property: 'city', old: 'Paris', new: 'Lyon' }] },
      { line: 2, email: 'b@x.com', action: 'create', changes: [{ property: 'city', old: null, new: 'Oslo' }] },
      { line: 3, action: 'reject', reason: { code: 'INVALID_EMAIL', message: 'bad' } },
    ],
    (s) => out.push(s),
  );
  expect(out[0]).toContain('city: Paris → Lyon');
  expect(out[1]).toContain('city: ∅ → Oslo');
  expect(out[2]).toContain('INVALID_EMAIL bad');
});
