import { canonicalNumber, coerceValue, MAX_STRING_LENGTH, parseTimeValue } from '../../../src/mapping/coerce';
import type { HubSpotProperty } from '../../../src/hubspot/types';

function prop(type: HubSpotProperty['type'], extra: Partial<HubSpotProperty> = {}): HubSpotProperty {
  return { name: `p_${type}`, label: type, type, fieldType: 'text', groupName: 'g', options: [], ...extra };
}
const ok = (value: string) => ({ ok: true, value });
const omit = { ok: true, omit: true };

describe('blank values are omitted for every type', () => {
  for (const type of ['string', 'number', 'bool', 'date', 'datetime', 'enumeration', 'phone_number'] as const) {
    it.each([null, undefined, '', '   '])(`${type}: %p`, (v) => {
      expect(coerceValue(v, prop(type))).toEqual(omit);
    });
  }
});

describe('string / phone_number', () => {
  const p = prop('string');
  it.each([
    ['text', 'text'],
    [' kept as is ', ' kept as is '],
    [42, '42'],
    [1.5e21, '1500000000000000000000'],
    [true, 'true'],
    [false, 'false'],
  ])('%p → %p', (v, out) => expect(coerceValue(v, p)).toEqual(ok(out)));

  it.each([[{ a: 1 }], [[1, 2]], [NaN], [Infinity]])('rejects %p as INVALID_STRING', (v) => {
    expect(coerceValue(v, p)).toMatchObject({ ok: false, code: 'INVALID_STRING' });
  });

  it('accepts exactly 65,536 characters and rejects one more (counted in code points)', () => {
    expect(coerceValue('x'.repeat(MAX_STRING_LENGTH), p)).toMatchObject({ ok: true });
    expect(coerceValue('x'.repeat(MAX_STRING_LENGTH + 1), p)).toMatchObject({ ok: false, code: 'VALUE_TOO_LONG' });
    // 65,536 emoji are 131,072 UTF-16 units but 65,536 characters.
    expect(coerceValue('😀'.repeat(MAX_STRING_LENGTH), p)).toMatchObject({ ok: true });
    expect(coerceValue('😀'.repeat(MAX_STRING_LENGTH + 1), prop('phone_number'))).toMatchObject({ ok: false, code: 'VALUE_TOO_LONG' });
  });
});

describe('number', () => {
  const p = prop('number');
  it.each([
    [42, '42'],
    [-0, '0'],
    [0.1, '0.1'],
    [1e21, '1000000000000000000000'],
    [1.5e-7, '0.00000015'],
    ['  42.50 ', '42.5'],
    ['+7', '7'],
    ['-003.100', '-3.1'],
    ['.5', '0.5'],
    ['5.', '5'],
    ['1e3', '1000'],
    ['2.5E-3', '0.0025'],
    ['-0.000', '0'],
    ['12345678901234567890123', '12345678901234567890123'], // keeps precision
    [BigInt(10) ** BigInt(20), '100000000000000000000'],
  ])('%p → %p', (v, out) => expect(coerceValue(v, p)).toEqual(ok(out)));

  it.each(['1,234', '1 000', '12abc', 'abc', '.', '-', '1e', 'NaN', 'Infinity', '0x10', '1e99999'])('rejects %p as INVALID_NUMBER', (v) => {
    expect(coerceValue(v, p)).toMatchObject({ ok: false, code: 'INVALID_NUMBER' });
  });
  it.each([[NaN], [Infinity], [true], [{}], [[1]]])('rejects %p', (v) => {
    expect(coerceValue(v, p)).toMatchObject({ ok: false, code: 'INVALID_NUMBER' });
  });

  it('canonicalNumber handles exponents either way', () => {
    expect(canonicalNumber('123.456e1')).toBe('1234.56');
    expect(canonicalNumber('123.456e-5')).toBe('0.00123456');
    expect(canonicalNumber('0e10')).toBe('0');
  });
});

describe('bool', () => {
  const p = prop('bool');
  it.each([
    [true, 'true'],
    [false, 'false'],
    ['TRUE', 'true'],
    [' yes ', 'true'],
    ['1', 'true'],
    [1, 'true'],
    ['False', 'false'],
    ['no', 'false'],
    ['0', 'false'],
    [0, 'false'],
  ])('%p → %p', (v, out) => expect(coerceValue(v, p)).toEqual(ok(out)));
  it.each(['maybe', 'y', 'on', 2, {}, ['true']])('rejects %p as INVALID_BOOL', (v) => {
    expect(coerceValue(v, p)).toMatchObject({ ok: false, code: 'INVALID_BOOL' });
  });
});

describe('date', () => {
  const p = prop('date');
  it.each([
    ['2024-02-29', '2024-02-29'],
    [' 1990-01-02 ', '1990-01-02'],
    ['2024-05-01T23:30:00Z', '2024-05-01'],
    ['2024-05-01T23:30:00-05:00', '2024-05-02'], // the UTC calendar day
    ['2024-05-01T10:00', '2024-05-01'], // no offset = UTC
    [1700000000000, '2023-11-14'],
    ['1700000000000', '2023-11-14'],
    [0, '1970-01-01'],
  ])('%p → %p', (v, out) => expect(coerceValue(v, p)).toEqual(ok(out)));
  it.each(['31/12/1990', '2024-02-30', '2023-02-29', '2024-13-01', '2024-1-1', 'yesterday', '2024-05-01T25:00:00Z', 1.5, true, {}])(
    'rejects %p as INVALID_DATE',
    (v) => {
      expect(coerceValue(v, p)).toMatchObject({ ok: false, code: 'INVALID_DATE' });
    },
  );
});

describe('datetime', () => {
  const p = prop('datetime');
  it.each([
    ['2024-05-01T10:00:00+02:00', '2024-05-01T08:00:00.000Z'],
    ['2024-05-01T10:00:00.123456Z', '2024-05-01T10:00:00.123Z'],
    ['2024-05-01 10:00:00Z', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T10:00:00+0530', '2024-05-01T04:30:00.000Z'],
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    [1714557600000, '2024-05-01T10:00:00.000Z'],
    ['-86400000', '1969-12-31T00:00:00.000Z'],
  ])('%p → %p', (v, out) => expect(coerceValue(v, p)).toEqual(ok(out)));
  it.each(['yesterday', '2024-13-01T00:00:00Z', '2024-05-01T10:61:00Z', '2024-05-01T10:00:00+25:00', '1e12', 9e15, 1.5])(
    'rejects %p as INVALID_DATETIME',
    (v) => {
      expect(coerceValue(v, p)).toMatchObject({ ok: false, code: 'INVALID_DATETIME' });
    },
  );
  it('parseTimeValue is undefined for non-time input', () => {
    expect(parseTimeValue({})).toBeUndefined();
  });
});

describe('enumeration', () => {
  const options = [
    { label: 'Lead', value: 'lead' },
    { label: 'Marketing Qualified Lead', value: 'marketingqualifiedlead' },
    { label: 'Yes', value: 'true' },
    { label: '10', value: 'ten' },
  ];
  const single = prop('enumeration', { fieldType: 'select', options });
  const multi = prop('enumeration', { fieldType: 'checkbox', options });

  it.each([
    ['lead', 'lead'],
    ['Marketing Qualified Lead', 'marketingqualifiedlead'],
    [' lead ', 'lead'],
    ['Lead ', 'lead'],
    [true, 'true'],
    ['10', 'ten'],
    [['lead'], 'lead'],
  ])('single-select %p → %p', (v, out) => expect(coerceValue(v, single)).toEqual(ok(out)));

  it.each(['LEAD', 'prospect', 'lead;true', { v: 1 }])('single-select rejects %p as INVALID_OPTION', (v) => {
    expect(coerceValue(v, single)).toMatchObject({ ok: false, code: 'INVALID_OPTION' });
  });
  it('single-select rejects several values', () => {
    expect(coerceValue(['lead', 'true'], single)).toMatchObject({ ok: false, code: 'INVALID_OPTION' });
  });

  it.each([
    [['lead', 'Yes'], 'lead;true'],
    ['lead; Marketing Qualified Lead ;', 'lead;marketingqualifiedlead'],
    [['lead', 'lead'], 'lead'],
    ['lead', 'lead'],
  ])('multi-select %p → %p', (v, out) => expect(coerceValue(v, multi)).toEqual(ok(out)));
  it('multi-select omits an empty list and rejects an unknown member', () => {
    expect(coerceValue([], multi)).toEqual(omit);
    expect(coerceValue(['', null], multi)).toEqual(omit);
    expect(coerceValue(['lead', 'cooking'], multi)).toMatchObject({ ok: false, code: 'INVALID_OPTION' });
  });

  it('does not check options of externally backed enumerations (owners, pipelines)', () => {
    const owner = prop('enumeration', { fieldType: 'select', options: [], externalOptions: true });
    expect(coerceValue('12345', owner)).toEqual(ok('12345'));
    expect(coerceValue(678, owner)).toEqual(ok('678'));
  });
});

describe('messages', () => {
  it('name the property and the rule, never the value', () => {
    const cases: Array<[unknown, HubSpotProperty]> = [
      ['secret-value-1', prop('number')],
      ['secret-value-2', prop('bool')],
      ['secret-value-3', prop('date')],
      ['secret-value-4', prop('datetime')],
      ['secret-value-5', prop('enumeration', { fieldType: 'select' })],
      [`secret-value-6${'x'.repeat(MAX_STRING_LENGTH)}`, prop('string')],
    ];
    for (const [v, p] of cases) {
      const r = coerceValue(v, p);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.message).toContain(`'${p.name}'`);
      expect(r.message).not.toContain('secret-value');
    }
  });
});
