/**
 * The compact wire form of streamed updates (`e t s v x n r`) ↔ the named fields workflow code uses.
 * Pure and deterministic: it runs inside the stream workflow, at its boundaries (the `profiles` signal,
 * flush activity inputs, continue-as-new carry), so the payloads in history keep their compact shape.
 */
import type { BufferedUpdate, EmailProblem, PendingUpdate, ProfileUpdate, StreamUpdate, UpdateRef } from './types';

/**
 * Decodes one signalled update; `undefined` when it is malformed. Anyone with access can signal the
 * stream, so nothing about the item is trusted beyond these checks.
 */
export function readWireUpdate(item: unknown): ProfileUpdate | undefined {
  const u = item as StreamUpdate | null | undefined;
  if (!u || typeof u !== 'object' || typeof u.t !== 'number' || typeof u.s !== 'object' || typeof u.v !== 'object' || !u.s || !u.v)
    return undefined;
  return {
    ...(u.e !== undefined ? { email: u.e } : {}),
    updatedAt: u.t,
    statuses: u.s,
    values: u.v,
    ...(u.x !== undefined ? { emailProblem: u.x } : {}),
  };
}

/** Wire form of a pending update (flush activity input, continue-as-new carry); keys in their historic order. */
export function toWire(u: PendingUpdate): BufferedUpdate {
  return {
    ...(u.email !== undefined ? { e: u.email } : {}),
    t: u.updatedAt,
    s: u.statuses,
    v: u.values,
    ...(u.emailProblem !== undefined ? { x: u.emailProblem } : {}),
    n: u.seq,
    r: u.receivedAt,
    ...(u.key !== undefined ? { k: u.key } : {}),
    ...(u.refs !== undefined ? { q: u.refs } : {}),
  };
}

/** A carried update (wire form) back to named fields. */
export function fromWire(u: BufferedUpdate): PendingUpdate {
  return {
    ...(u.e !== undefined ? { email: u.e } : {}),
    updatedAt: u.t,
    statuses: u.s,
    values: u.v,
    ...(u.x !== undefined ? { emailProblem: u.x } : {}),
    seq: u.n,
    receivedAt: u.r,
    ...(u.k !== undefined ? { key: u.k } : {}),
    ...(Array.isArray(u.q) ? { refs: u.q } : {}),
  };
}

/** Packs per-entry lists of ingest-log numbers for a flush input: `{from, packed}` (entries `,`, numbers − from `+`). */
export function packSeqLists(lists: number[][]): { from: number; packed: string } {
  let from = Infinity;
  for (const l of lists) for (const s of l) if (s < from) from = s;
  if (from === Infinity) from = 0;
  return { from, packed: lists.map((l) => l.map((s) => s - from).join('+')).join(',') };
}

export function unpackSeqLists(from: number, packed: string): number[][] {
  if (packed === '') return [];
  return packed.split(',').map((entry) => entry.split('+').map((d) => from + Number(d)));
}

const PROBLEM_CODES: Record<string, EmailProblem> = { M: 'MISSING_EMAIL', I: 'INVALID_EMAIL' };

/** Packs references for the `profiles` signal: `dn:key:dt[:M|I]`, comma-separated (keys are base64url). */
export function packRefs(refs: UpdateRef[]): string {
  return refs
    .map(([dn, key, dt, problem]) => `${dn}:${key}:${dt}${problem ? `:${problem === 'MISSING_EMAIL' ? 'M' : 'I'}` : ''}`)
    .join(',');
}

/** The inverse of `packRefs`; a malformed item decodes to something `readWireRefs` rejects. */
export function unpackRefs(packed: string): unknown[] {
  if (packed === '') return [];
  return packed.split(',').map((item) => {
    const [dn, key, dt, problem] = item.split(':');
    const n = Number(dn);
    const t = Number(dt);
    if (dn === '' || dt === undefined || dt === '' || !Number.isInteger(n) || !Number.isFinite(t) || key === undefined) return undefined;
    return problem === undefined ? [n, key, t] : [n, key, t, PROBLEM_CODES[problem] ?? problem];
  });
}

/**
 * Decodes the references of a `profiles` signal into pending updates (email, statuses and values stay in
 * the ingest log); `undefined` entries are malformed.
 */
export function readWireRefs(signal: { n?: unknown; refs?: unknown; at: number }, receivedAt: number): Array<PendingUpdate | undefined> {
  const base = typeof signal.n === 'number' ? signal.n : NaN;
  const refs: unknown[] = typeof signal.refs === 'string' ? unpackRefs(signal.refs) : Array.isArray(signal.refs) ? signal.refs : [];
  return refs.map((r) => {
    if (!Array.isArray(r) || typeof r[0] !== 'number' || typeof r[1] !== 'string' || typeof r[2] !== 'number') return undefined;
    const seq = base + r[0];
    if (!Number.isSafeInteger(seq)) return undefined;
    const problem =
      r[3] === 'MISSING_EMAIL' || r[3] === 'INVALID_EMAIL' ? (r[3] as EmailProblem) : r[1] === '' ? 'MISSING_EMAIL' : undefined;
    return {
      ...(r[1] !== '' ? { key: r[1] } : {}),
      updatedAt: signal.at + r[2],
      statuses: {},
      values: {},
      ...(problem ? { emailProblem: problem } : {}),
      seq,
      receivedAt,
      refs: [seq],
    };
  });
}

/** Size of an update as it travels in payloads (JSON characters of its wire form). */
export function wireChars(u: PendingUpdate): number {
  return JSON.stringify(toWire(u)).length + 1;
}

/**
 * Updates by reference carried across continue-as-new, packed (issue 15: a full buffer of 4,000 took
 * 460 KB of JSON in the next run's first event, half of a 1 MB history page): `B/T/` then entries
 * `key:seq:time:received:refs[:M|I]` (seq empty when it is the last ref's), comma-separated, numbers relative to B (log numbers) and T (times),
 * refs joined by `+`. About 30 characters per entry. Strings of at most `maxChars` each (one payload each).
 */
export function packCarry(updates: PendingUpdate[], maxChars = 200_000): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < updates.length) {
    const first = updates[i];
    const B = first.seq;
    const T = first.receivedAt;
    const parts: string[] = [];
    let chars = 0;
    for (; i < updates.length; i++) {
      const u = updates[i];
      const problem = u.emailProblem ? `:${u.emailProblem === 'MISSING_EMAIL' ? 'M' : 'I'}` : '';
      const refs = u.refs ?? [];
      // The number is almost always the last ref's: then left empty.
      const seq = refs.length && refs[refs.length - 1] === u.seq ? '' : String(u.seq - B);
      const entry = `${u.key ?? ''}:${seq}:${u.updatedAt - T}:${u.receivedAt - T}:${refs.map((r) => r - B).join('+')}${problem}`;
      if (parts.length > 0 && chars + entry.length + 1 > maxChars) break;
      parts.push(entry);
      chars += entry.length + 1;
    }
    out.push(`${B}/${T}/${parts.join(',')}`);
  }
  return out;
}

/** The inverse of `packCarry` (a malformed entry is skipped: only the workflow itself writes these). */
export function unpackCarry(packed: string): PendingUpdate[] {
  const [b, t, body] = packed.split('/');
  const B = Number(b);
  const T = Number(t);
  if (!body || !Number.isFinite(B) || !Number.isFinite(T)) return [];
  const out: PendingUpdate[] = [];
  for (const entry of body.split(',')) {
    const [key, ds, dt, dr, refs, problem] = entry.split(':');
    const refList = refs ? refs.split('+').map((r) => B + Number(r)) : [];
    const seq = ds === '' ? (refList[refList.length - 1] ?? NaN) : B + Number(ds);
    const updatedAt = T + Number(dt);
    const receivedAt = T + Number(dr);
    if (![seq, updatedAt, receivedAt].every(Number.isFinite)) continue;
    out.push({
      ...(key ? { key } : {}),
      updatedAt,
      statuses: {},
      values: {},
      ...(problem ? { emailProblem: PROBLEM_CODES[problem] ?? 'INVALID_EMAIL' } : {}),
      seq,
      receivedAt,
      refs: refList,
    });
  }
  return out;
}
