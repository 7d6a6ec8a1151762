/**
 * The whole pre-send path for a batch of source records: parse → prepare → merge duplicates.
 * Every record comes out exactly once, as a contact to upsert, a rejection (with the record, so it
 * can be stored and re-sent) or a skip with a reason: received = ready + rejected + skipped.
 */
import type { SourceRecord } from '../members/types';
import { DUPLICATE_MERGED, mergeByEmail } from './merge';
import { mappingSourcePaths, prepareRecord, type PrepareContext } from './prepare';
import type { PreparedContact, RejectionReason } from './types';

export interface BatchRejection {
  line: number;
  email?: string;
  reason: RejectionReason;
  record: SourceRecord;
}

export interface BatchSkip {
  line: number;
  email?: string;
  reason: { code: string; message: string };
}

export interface PreparedBatch {
  /** One per email, in order of first appearance; duplicates already merged (later values win). */
  contacts: PreparedContact[];
  rejected: BatchRejection[];
  skipped: BatchSkip[];
}

export function prepareBatch(records: SourceRecord[], ctx: PrepareContext & { audienceId: string }): PreparedBatch {
  const sourcePaths = mappingSourcePaths(ctx.mapping);
  const ready: PreparedContact[] = [];
  const rejected: BatchRejection[] = [];
  const skipped: BatchSkip[] = [];
  for (const record of records) {
    const outcome = prepareRecord(record, { ...ctx, sourcePaths });
    if (outcome.kind === 'ready') ready.push(outcome.contact);
    else if (outcome.kind === 'rejected')
      rejected.push({ line: outcome.line, ...(outcome.email ? { email: outcome.email } : {}), reason: outcome.reason, record });
    else skipped.push({ line: outcome.line, reason: outcome.reason });
  }
  const { merged, mergedAway } = mergeByEmail(ready);
  const lineByEmail = new Map(merged.map((m) => [m.email, m.line]));
  for (const c of mergedAway) {
    skipped.push({
      line: c.line,
      email: c.email,
      reason: { code: DUPLICATE_MERGED, message: `Merged into a later record with the same email (line ${lineByEmail.get(c.email)})` },
    });
  }
  return { contacts: merged, rejected, skipped };
}
