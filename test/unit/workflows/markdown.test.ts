import { escapeMarkdown } from '../../../workflows/markdown';
import { ActivationState } from '../../../workflows/activation-state';

describe('escapeMarkdown', () => {
  test('images, links, emphasis, code and HTML come out as text', () => {
    expect(escapeMarkdown('![x](http://evil/p.png)')).toBe('\\!\\[x\\]\\(http://evil/p\\.png\\)');
    expect(escapeMarkdown('[click](javascript:alert(1))')).toBe('\\[click\\]\\(javascript:alert\\(1\\)\\)');
    expect(escapeMarkdown('*a* _b_ `c` ~d~')).toBe('\\*a\\* \\_b\\_ \\`c\\` \\~d\\~');
    expect(escapeMarkdown('<img src=x onerror=alert(1)>')).toBe('\\<img src=x onerror=alert\\(1\\)\\>');
    expect(escapeMarkdown('a\\b')).toBe('a\\\\b');
  });

  test('line breaks cannot start new blocks (headings, lists, tables)', () => {
    expect(escapeMarkdown('x\n# Heading\r\n- item | a')).toBe('x \\# Heading \\- item \\| a');
  });

  test('plain names are unchanged', () => {
    expect(escapeMarkdown('Buyers 2026 Q1')).toBe('Buyers 2026 Q1');
    expect(escapeMarkdown('')).toBe('');
  });
});

describe('Web UI details escape names', () => {
  test('an audience name with a Markdown image and link renders as text', () => {
    const run = new ActivationState(
      {
        activationId: 'act-1',
        destinationId: 'd1',
        audience: { id: 'A', name: '![pic](http://evil/p.png) [x](http://evil)' },
        source: { kind: 'sample', count: 1 },
      } as never,
      Date.parse('2026-01-01T00:00:00Z'),
    );
    const first = run.details().split('\n\n')[0];
    expect(first).not.toMatch(/!\[|\]\(/);
    expect(first).toContain('\\!\\[pic\\]\\(http://evil/p\\.png\\) \\[x\\]\\(http://evil\\)');
  });
});
