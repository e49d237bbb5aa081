import { describe, expect, it } from '@jest/globals';
import { DEFAULT_FEATURISER, Featuriser, normalise, PLACEHOLDER, tokenise } from '../../src/nlp/featuriser.js';

const cfg = DEFAULT_FEATURISER;

describe('normalisation', () => {
  it('folds full width to half width and lower case', () => {
    expect(normalise('ＨＥＬＬＯ　Ｗｏｒｌｄ！', cfg)).toBe('hello world!');
  });
  it('converts traditional to simplified Chinese', () => {
    expect(normalise('我的訂單還沒到，請問怎麼辦', cfg)).toBe('我的订单还没到,请问怎么办');
  });
  it('replaces URLs, emails and numbers with placeholders', () => {
    const text = normalise('Mail a.b@example.com or see https://x.example/y?z=1 about order 12345 for $9.99', cfg);
    expect(text).toContain(PLACEHOLDER.email);
    expect(text).toContain(PLACEHOLDER.url);
    expect(text).not.toMatch(/\d/);
    expect(text).not.toContain('example');
  });
  it('drops zero-width and control characters and caps the length', () => {
    expect(normalise('a\u200bb\u0000c\ufeff', cfg)).toBe('abc');
    expect(normalise('x'.repeat(100_000), cfg).length).toBe(cfg.maxChars);
  });
  it('tokenises CJK per character and alphabetic text per word', () => {
    expect(tokenise('我要 refund now')).toEqual(['我', '要', 'refund', 'now']);
  });
});

describe('hashed features', () => {
  const f = new Featuriser({ ...cfg, hashBits: 18 });
  it('is deterministic, sorted, in range, with sublinear counts', () => {
    const a = f.featurise('Where is my order? where is it');
    const b = f.featurise('Where is my order? where is it');
    expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(Array.from(a.ids)).toEqual([...a.ids].sort((x, y) => x - y));
    expect(Math.max(...a.ids)).toBeLessThan(1 << 18);
    for (const v of a.values) {
      const count = Math.exp(v - 1);
      expect(Math.abs(count - Math.round(count))).toBeLessThan(1e-4);
      expect(count).toBeGreaterThanOrEqual(1);
    }
  });
  it('maps traditional and simplified, full and half width to the same features', () => {
    expect(Array.from(f.featurise('訂單').ids)).toEqual(Array.from(f.featurise('订单').ids));
    expect(Array.from(f.featurise('ＯＲＤＥＲ').ids)).toEqual(Array.from(f.featurise('order').ids));
  });
  it('gives empty features for empty and invisible input, bounded features for huge input', () => {
    expect(f.featurise('').ids.length).toBe(0);
    expect(f.featurise('\u200b\u200d').ids.length).toBe(0);
    expect(f.featurise('abc def '.repeat(50_000)).ids.length).toBeLessThanOrEqual(cfg.maxFeatures);
  });
});
