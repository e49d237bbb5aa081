import { describe, expect, it } from '@jest/globals';
import { DEFAULT_FEATURISER, Featuriser, normalise, PLACEHOLDER, tokenise, type FeaturiserConfig } from '../../src/nlp/featuriser.js';
import { GARBAGE, intentExamples, PROBES } from './fixtures.js';

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

/**
 * The featuriser's first implementation (a Map and Array.from per run), kept here as the
 * specification: the table-based featuriser must produce exactly the same buckets and values,
 * otherwise packs trained before it would silently get different inputs.
 */
function referenceFeaturise(config: FeaturiserConfig, text: string): { ids: number[]; values: number[] } {
  const fmix = (h: number): number => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  };
  const hashString = (s: string, seed: number): number => {
    let h = (0x811c9dc5 ^ seed) >>> 0;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return h >>> 0;
  };
  const normalised = normalise(text, config);
  const mask = (1 << config.hashBits) - 1;
  const counts = new Map<number, number>();
  const add = (hash: number): void => {
    const bucket = fmix(hash) & mask;
    const current = counts.get(bucket);
    if (current !== undefined) counts.set(bucket, current + 1);
    else if (counts.size < config.maxFeatures) counts.set(bucket, 1);
  };
  const [wMin, wMax] = config.wordNgrams;
  if (wMax > 0) {
    const hashes = tokenise(normalised).map((token) => hashString(token, 0x9e3779b9));
    for (let i = 0; i < hashes.length; i++) {
      let h = 0;
      for (let n = 1; n <= wMax && i + n <= hashes.length; n++) {
        h = (Math.imul(h ^ hashes[i + n - 1], 0x27d4eb2d) + n) >>> 0;
        if (n >= wMin) add(h ^ n);
      }
    }
  }
  const [cMin, cMax] = config.charNgrams;
  if (cMax > 0 && normalised.length > 0) {
    for (const run of normalised.split(' ')) {
      if (!run) continue;
      const chars = Array.from(` ${run} `);
      for (let i = 0; i < chars.length; i++) {
        let h = (0x811c9dc5 ^ 0x85ebca6b) >>> 0;
        for (let n = 1; n <= cMax && i + n <= chars.length; n++) {
          const ch = chars[i + n - 1];
          for (let k = 0; k < ch.length; k++) {
            h ^= ch.charCodeAt(k);
            h = Math.imul(h, 0x01000193);
          }
          if (n >= cMin && !(n === 1 && ch === ' ')) add((h ^ Math.imul(n, 0x165667b1)) >>> 0);
        }
      }
    }
  }
  const ids = [...counts.keys()].sort((a, b) => a - b);
  return { ids, values: ids.map((id) => Math.fround(1 + Math.log(counts.get(id)!))) };
}

describe('table-based featuriser against the reference implementation', () => {
  const texts = [
    ...PROBES,
    ...Object.values(GARBAGE),
    ...intentExamples().map((e) => e.text),
    'I still have not received my new card, can you tell me when it will arrive?',
    '帮我查一下明天北京到上海的航班 and the 天气',
    'emoji 😀😂 between words 🙏🏽 and a lone surrogate \ud83d',
    'x'.repeat(999) + '😀 tail',
    'a  b   c\t\td',
  ];
  const configs: FeaturiserConfig[] = [
    { ...cfg, hashBits: 18 },
    { ...cfg, hashBits: 12, maxFeatures: 40 },
    { ...cfg, hashBits: 16, wordNgrams: [0, 0], charNgrams: [2, 4] },
    { ...cfg, hashBits: 16, wordNgrams: [1, 3], charNgrams: [0, 0] },
  ];
  it.each(configs.map((c, i) => [i, c] as const))('gives identical buckets and values (config %i)', (_i, config) => {
    const f = new Featuriser(config);
    for (const text of texts) {
      const expected = referenceFeaturise(config, text);
      const actual = f.featurise(text);
      expect({ text: text.slice(0, 40), ids: Array.from(actual.ids) }).toEqual({ text: text.slice(0, 40), ids: expected.ids });
      expect(Array.from(actual.values)).toEqual(expected.values);
      expect([...f.counts(text).keys()].sort((a, b) => a - b)).toEqual(expected.ids);
    }
  });
  it('keeps at most maxFeatures distinct buckets, the first ones seen', () => {
    const config = { ...cfg, hashBits: 20, maxFeatures: 7 };
    const actual = new Featuriser(config).featurise('the quick brown fox jumps over the lazy dog');
    expect(actual.ids.length).toBe(7);
    expect(Array.from(actual.ids)).toEqual(referenceFeaturise(config, 'the quick brown fox jumps over the lazy dog').ids);
  });
});
