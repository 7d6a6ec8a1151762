/** The rejection guard's verdict: only past the minimum, only above the bound, with figures and the top reasons. */
import { guardCounts, guardVerdict } from '../../../src/delivery/rejection-guard';

const bound = { maxRejectedPercent: 25, minRecords: 100 };

test('nothing before the minimum number of members, however bad', () => {
  expect(guardVerdict({ received: 99, rejected: 99, rejectedByReason: { INVALID_EMAIL: 99 } }, bound)).toBeUndefined();
});

test('at the bound it runs on; above it, it stops with the figures and the top three reasons', () => {
  expect(guardVerdict({ received: 800, rejected: 200, rejectedByReason: { INVALID_OPTION: 200 } }, bound)).toBeUndefined();
  const verdict = guardVerdict(
    { received: 1000, rejected: 301, rejectedByReason: { INVALID_OPTION: 200, INVALID_EMAIL: 60, INVALID_DATE: 40, VALUE_TOO_LONG: 1 } },
    bound,
  );
  expect(verdict).toContain('301 of the 1000 members read so far were rejected (30.1%), more than maxRejectedPercent 25%');
  expect(verdict).toContain('Top reasons: INVALID_OPTION 200, INVALID_EMAIL 60, INVALID_DATE 40.');
  expect(verdict).not.toContain('VALUE_TOO_LONG');
});

test('a bound of 0 stops at the first rejection past the minimum', () => {
  expect(
    guardVerdict({ received: 100, rejected: 1, rejectedByReason: { X: 1 } }, { maxRejectedPercent: 0, minRecords: 100 }),
  ).toBeDefined();
  expect(guardVerdict({ received: 100, rejected: 0, rejectedByReason: {} }, { maxRejectedPercent: 0, minRecords: 100 })).toBeUndefined();
});

test('counts before the activity and since add up, reasons merged', () => {
  expect(
    guardCounts({ received: 10, rejected: 2, rejectedByReason: { A: 2 } }, { received: 5, rejected: 1, rejectedByReason: { A: 1, B: 0 } }),
  ).toEqual({ received: 15, rejected: 3, rejectedByReason: { A: 3, B: 0 } });
});
