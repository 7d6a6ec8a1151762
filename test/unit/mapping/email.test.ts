import { isValidEmail, normalizeEmail } from '../../../src/mapping/email';

describe('normalizeEmail', () => {
  it('trims and lowercases', () => {
    expect(normalizeEmail('  MiXed.Case@Example.ORG \t')).toBe('mixed.case@example.org');
  });
});

describe('isValidEmail', () => {
  it.each([
    'a@example.com',
    'first.last+tag@sub.example.co.uk',
    "o'brien@example.ie",
    'x_y-z@example-domain.io',
    '1234@example.museum',
    'user@xn--bcher-kva.example',
    'user@example.xn--p1ai',
    `${'a'.repeat(64)}@example.com`,
  ])('accepts %s', (email) => {
    expect(isValidEmail(email)).toBe(true);
  });

  it.each([
    '',
    'plainaddress',
    '@example.com',
    'user@',
    'user@localhost',
    'user@example',
    'user@example.c',
    'user@example.c0m',
    'two@@example.com',
    'a@b@example.com',
    'john doe@example.com',
    'user@exa mple.com',
    '.user@example.com',
    'user.@example.com',
    'us..er@example.com',
    'user@-example.com',
    'user@example-.com',
    'user@example..com',
    'us"er@example.com',
    'us(er@example.com',
    'üser@example.com',
    'user@exämple.com',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(60)}.com`, // > 254 chars
  ])('rejects %s', (email) => {
    expect(isValidEmail(email)).toBe(false);
  });
});
