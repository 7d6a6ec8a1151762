import crypto from 'node:crypto';
import { changeOf } from '../../../src/dataflow/change';
import { fingerprint } from '../../../src/dataflow/fingerprint';

const base = { firstname: 'Ada', email_opt_in: 'true', city: 'Zürich' };

describe('fingerprint', () => {
  it('is the same for the same values in another key order', () => {
    expect(fingerprint({ city: 'Zürich', email_opt_in: 'true', firstname: 'Ada' })).toBe(fingerprint(base));
  });

  it('differs for a changed, added or removed property', () => {
    const fp = fingerprint(base);
    expect(fingerprint({ ...base, city: 'Zurich' })).not.toBe(fp);
    expect(fingerprint({ ...base, lastname: 'Lovelace' })).not.toBe(fp);
    expect(fingerprint({ ...base, lastname: '' })).not.toBe(fp);
    const { city: _city, ...without } = base;
    expect(fingerprint(without)).not.toBe(fp);
  });

  it('cannot be fooled by moving text between a name and a value', () => {
    expect(fingerprint({ a: 'b=c' })).not.toBe(fingerprint({ 'a=b': 'c' }));
    expect(fingerprint({ a: 'x\n1:b=1:y' })).not.toBe(fingerprint({ a: 'x', b: 'y' }));
  });

  it('is 22 base64url characters (16 bytes)', () => {
    expect(fingerprint(base)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('keeps its known answers across versions (a change would resend every contact once)', () => {
    expect(fingerprint(base)).toBe('19Uwo25TPXfV4bPTM_cB0A');
    expect(fingerprint({})).toBe('fVFXkDop4qfDdXK9AThwRQ');
    // The documented encoding, computed independently.
    const encoded = 'hsd-fp/v1\n4:city=7:Zürich\n12:email_opt_in=4:true\n9:firstname=3:Ada';
    expect(crypto.createHash('sha256').update(encoded).digest().subarray(0, 16).toString('base64url')).toBe(fingerprint(base));
  });

  it('refuses values that are not the strings sent', () => {
    expect(() => fingerprint({ n: 1 } as unknown as Record<string, string>)).toThrow(TypeError);
  });
});

describe('changeOf', () => {
  const fp = fingerprint(base);
  const row = { keyHash: 'k', fingerprint: fp, recordId: '1', statuses: { A: 'realized' as const, B: 'existing' as const } };

  it('is new without a remembered row, unchanged when attributes and the run’s statuses match', () => {
    expect(changeOf(undefined, { fingerprint: fp, statuses: { A: 'realized' } })).toBe('new');
    // B is not in this run: its remembered status does not matter.
    expect(changeOf(row, { fingerprint: fp, statuses: { A: 'realized' } })).toBe('unchanged');
  });

  it('is changed for another fingerprint, an unknown one, or any differing status', () => {
    expect(changeOf(row, { fingerprint: fingerprint({ ...base, city: 'Bern' }), statuses: { A: 'realized' } })).toBe('changed');
    expect(changeOf({ ...row, fingerprint: null }, { fingerprint: fp, statuses: { A: 'realized' } })).toBe('changed');
    expect(changeOf(row, { fingerprint: fp, statuses: { A: 'exited' } })).toBe('changed');
    expect(changeOf(row, { fingerprint: fp, statuses: { C: 'realized' } })).toBe('changed');
  });
});
