import { mergeByEmail } from '../../../src/mapping/merge';
import type { PreparedContact } from '../../../src/mapping/types';

const c = (
  line: number,
  email: string,
  properties: Record<string, string>,
  status: PreparedContact['status'] = 'realized',
): PreparedContact => ({
  line,
  email,
  status,
  properties: { email, ...properties },
});

describe('mergeByEmail', () => {
  it('merges same-email contacts: later values win, earlier-only values stay, first position kept', () => {
    const { merged, mergedAway } = mergeByEmail([
      c(1, 'a@example.com', { firstname: 'A1', city: 'Lisbon' }),
      c(2, 'b@example.com', { firstname: 'B' }),
      c(3, 'a@example.com', { firstname: 'A2' }, 'exited'),
      c(4, 'a@example.com', { lastname: 'Z' }),
    ]);
    expect(merged).toEqual([
      {
        line: 4,
        email: 'a@example.com',
        status: 'realized',
        properties: { email: 'a@example.com', firstname: 'A2', city: 'Lisbon', lastname: 'Z' },
      },
      c(2, 'b@example.com', { firstname: 'B' }),
    ]);
    // The originals that were folded in, each once (they are reported as DUPLICATE_MERGED).
    expect(mergedAway.map((m) => m.line)).toEqual([1, 3]);
    expect(mergedAway[1].properties).toEqual({ email: 'a@example.com', firstname: 'A2' });
  });

  it('leaves distinct emails alone', () => {
    const input = [c(1, 'a@example.com', {}), c(2, 'b@example.com', {})];
    expect(mergeByEmail(input)).toEqual({ merged: input, mergedAway: [] });
  });
});
