/**
 * The compact wire form of streamed updates (`e t s v x n r`) ↔ the named fields workflow code uses.
 * Pure and deterministic: it runs inside the stream workflow, at its boundaries (the `profiles` signal,
 * flush activity inputs, continue-as-new carry), so the payloads in history keep their compact shape.
 */
import type { BufferedUpdate, EmailProblem, PendingUpdate, ProfileUpdate, StreamUpdate } from './types';

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

/**
 * Decodes the references of a `profiles` signal into pending updates (email, statuses and values stay in
 * the ingest log); `undefined` entries are malformed.
 */
export function readWireRefs(signal: { n?: unknown; refs?: unknown; at: number }, receivedAt: number): Array<PendingUpdate | undefined> {
  const base = typeof signal.n === 'number' ? signal.n : NaN;
  const refs: unknown[] = Array.isArray(signal.refs) ? signal.refs : [];
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
