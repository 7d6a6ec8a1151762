import type { BufferedUpdate } from '../../../src/streaming/types';
import { fromWire, readWireUpdate, toWire, wireChars } from '../../../src/streaming/wire';

describe('streamed updates: wire form ↔ named fields', () => {
  const wire: BufferedUpdate = { e: 'a@x.com', t: 20, s: { A: 'realized' }, v: { city: 'Lyon' }, n: 7, r: 1000 };

  test('decodes to named fields and encodes back to the same wire form', () => {
    const named = fromWire(wire);
    expect(named).toEqual({
      email: 'a@x.com',
      updatedAt: 20,
      statuses: { A: 'realized' },
      values: { city: 'Lyon' },
      seq: 7,
      receivedAt: 1000,
    });
    expect(JSON.stringify(toWire(named))).toBe(JSON.stringify(wire));
    const problem: BufferedUpdate = { t: 1, s: {}, v: {}, x: 'MISSING_EMAIL', n: 8, r: 5 };
    expect(fromWire(problem)).toEqual({ updatedAt: 1, statuses: {}, values: {}, emailProblem: 'MISSING_EMAIL', seq: 8, receivedAt: 5 });
    expect(toWire(fromWire(problem))).toEqual(problem);
  });

  test('a signalled item is decoded only when it has a time, statuses and values', () => {
    expect(readWireUpdate({ e: 'a@x.com', t: 1, s: {}, v: { k: 1 } })).toEqual({
      email: 'a@x.com',
      updatedAt: 1,
      statuses: {},
      values: { k: 1 },
    });
    for (const bad of [null, 42, 'x', { t: 'soon', s: {}, v: {} }, { t: 1, s: null, v: {} }, { t: 1, s: {} }])
      expect(readWireUpdate(bad)).toBeUndefined();
  });

  test('sizes are those of the wire form (what payloads carry)', () => {
    expect(wireChars(fromWire(wire))).toBe(JSON.stringify(wire).length + 1);
  });
});
