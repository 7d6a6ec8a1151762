import { chunkForCarry, StreamBuffer } from '../../../src/streaming/buffer';
import type { PendingUpdate } from '../../../src/streaming/types';
import { fromWire, toWire } from '../../../src/streaming/wire';

let n = 0;
const upd = (email: string | undefined, updatedAt: number, extra: Partial<PendingUpdate> = {}): PendingUpdate => ({
  email,
  updatedAt,
  statuses: {},
  values: {},
  seq: ++n,
  receivedAt: 1000 + n,
  ...extra,
});

describe('StreamBuffer', () => {
  test('a newer update merges: its values win, values only the older has are kept', () => {
    const b = new StreamBuffer();
    expect(b.add(upd('a@x.com', 10, { values: { city: 'Lyon', first: 'Ana' }, statuses: { A: 'realized' } }))).toBe('added');
    expect(b.add(upd('a@x.com', 20, { values: { city: 'Brno' }, statuses: { B: 'existing' } }))).toBe('merged');
    const [u] = b.snapshot();
    expect(u).toMatchObject({ updatedAt: 20, values: { city: 'Brno', first: 'Ana' }, statuses: { A: 'realized', B: 'existing' } });
    expect(u.receivedAt).toBe(1001 + (n - 2)); // deadline from the earliest receipt
  });

  test('an older update arriving late is dropped', () => {
    const b = new StreamBuffer();
    b.add(upd('a@x.com', 20, { values: { city: 'Brno' } }));
    expect(b.add(upd('a@x.com', 10, { values: { city: 'Lyon', first: 'Ana' } }))).toBe('stale');
    expect(b.snapshot()).toEqual([expect.objectContaining({ updatedAt: 20, values: { city: 'Brno' } })]);
  });

  test('equal times: the later arrival wins', () => {
    const b = new StreamBuffer();
    b.add(upd('a@x.com', 10, { values: { city: 'Lyon' } }));
    expect(b.add(upd('a@x.com', 10, { values: { city: 'Brno' } }))).toBe('merged');
    expect(b.snapshot()[0].values).toEqual({ city: 'Brno' });
  });

  test('updates without a usable email are never merged', () => {
    const b = new StreamBuffer();
    b.add(upd(undefined, 1, { emailProblem: 'MISSING_EMAIL' }));
    b.add(upd(undefined, 2, { emailProblem: 'MISSING_EMAIL' }));
    b.add(upd('bad', 3, { emailProblem: 'INVALID_EMAIL' }));
    b.add(upd('bad', 4, { emailProblem: 'INVALID_EMAIL' }));
    expect(b.size).toBe(4);
  });

  test('take: oldest first, busy emails wait for their flush to end', () => {
    const b = new StreamBuffer();
    for (let i = 0; i < 5; i++) b.add(upd(`u${i}@x.com`, i, { receivedAt: 100 - i }));
    const first = b.take(2);
    expect(first.map((u) => u.email)).toEqual(['u4@x.com', 'u3@x.com']);
    expect(b.readyCount).toBe(3);
    // A new update of a busy email waits, and is not ready until release.
    b.add(upd('u4@x.com', 50, { receivedAt: 1 }));
    expect(b.size).toBe(4);
    expect(b.readyCount).toBe(3);
    expect(b.oldestReadyAt()).toBe(98);
    expect(b.oldestAt()).toBe(1);
    expect(
      b
        .take(10)
        .map((u) => u.email)
        .sort(),
    ).toEqual(['u0@x.com', 'u1@x.com', 'u2@x.com']);
    expect(b.readyCount).toBe(0);
    b.release(first);
    expect(b.readyCount).toBe(1);
    expect(b.take(10).map((u) => u.email)).toEqual(['u4@x.com']);
  });

  test('restore merges a returned batch with what arrived meanwhile, by time', () => {
    const b = new StreamBuffer();
    b.add(upd('a@x.com', 10, { values: { city: 'Lyon', first: 'Ana' } }));
    b.add(upd('b@x.com', 30, { values: { city: 'Oslo' } }));
    b.add(upd('c@x.com', 5));
    const batch = b.take(10);
    b.add(upd('a@x.com', 20, { values: { city: 'Brno' } })); // newer than the returned one
    b.add(upd('b@x.com', 25, { values: { city: 'Rome' } })); // older than the returned one
    b.release(batch);
    expect(b.restore(batch)).toEqual({ merged: 1, stale: 1 });
    const byEmail = Object.fromEntries(b.snapshot().map((u) => [u.email, u]));
    expect(byEmail['a@x.com']).toMatchObject({ updatedAt: 20, values: { city: 'Brno', first: 'Ana' } });
    expect(byEmail['b@x.com']).toMatchObject({ updatedAt: 30, values: { city: 'Oslo' } });
    expect(byEmail['c@x.com']).toMatchObject({ updatedAt: 5 });
    expect(b.readyCount).toBe(3);
  });

  test('take keeps a batch within its size budget (at least one update) and tracks the buffer size', () => {
    const b = new StreamBuffer();
    for (let i = 0; i < 10; i++) b.add(upd(`s${i}@x.com`, i, { values: { note: 'y'.repeat(1000) } }));
    const total = b.totalChars;
    expect(total).toBeGreaterThan(10_000);
    const batch = b.take(100, 3500);
    expect(batch).toHaveLength(3);
    expect(b.totalChars).toBeLessThan(total);
    expect(b.take(100, 10)).toHaveLength(1);
    b.take(100);
    expect(b.totalChars).toBe(0);
  });

  test('a carried buffer comes back whole, chunked by size', () => {
    const b = new StreamBuffer();
    for (let i = 0; i < 300; i++) b.add(upd(`u${i}@x.com`, i, { values: { note: 'x'.repeat(200) } }));
    const chunks = chunkForCarry(b.snapshot().map(toWire), 10_000);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(JSON.stringify(c).length).toBeLessThanOrEqual(10_000 + c.length);
    const again = new StreamBuffer(chunks.flat().map(fromWire));
    expect(again.snapshot()).toEqual(b.snapshot());
  });
});
