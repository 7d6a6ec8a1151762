/**
 * Keeps Temporal payloads out of logs. The SDK logs whole activations and activity tasks at TRACE,
 * payloads included; with forwarded runtime logs the entries are buffered, and by the time they are
 * written the worker has decoded those same payload objects in place: decrypted contact data would
 * reach the log. Every payload-shaped value ({metadata, data}) is replaced by its encoding and size.
 */

const MAX_DEPTH = 12;

function isPayload(v: Record<string, unknown>): boolean {
  const m = v.metadata;
  return (
    !!m &&
    typeof m === 'object' &&
    'data' in v &&
    (v.data === undefined || v.data === null || v.data instanceof Uint8Array || typeof v.data === 'string')
  );
}

function encodingOf(v: Record<string, unknown>): string | undefined {
  const e = (v.metadata as Record<string, unknown>).encoding;
  if (e instanceof Uint8Array) return Buffer.from(e).toString('utf8');
  return typeof e === 'string' ? e : undefined;
}

/** A copy of `value` with every payload replaced by `{payload: <encoding>, bytes: <size>}`. */
export function withoutPayloads<T>(value: T): T {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof Uint8Array) return `[${v.length} bytes]`; // raw bytes may be (decoded) payload data too
    if (v instanceof Date || v instanceof Error) return v;
    if (seen.has(v) || depth > MAX_DEPTH) return '[…]';
    seen.add(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const o = v as Record<string, unknown>;
    if (isPayload(o)) {
      const data = o.data;
      return { payload: encodingOf(o) ?? 'unknown', bytes: data instanceof Uint8Array || typeof data === 'string' ? data.length : 0 };
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = walk(x, depth + 1);
    return out;
  };
  return walk(value, 0) as T;
}
