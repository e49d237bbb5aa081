import { describe, expect, it } from '@jest/globals';
import { EntityExtractor } from '../../src/nlp/entities.js';

const now = new Date('2026-03-10T08:00:00Z');
const values = (text: string, extractor = new EntityExtractor()) => extractor.extract(text, now).map((e) => [e.type, e.value]);

describe('entities', () => {
  it('finds order numbers, emails, phones, amounts and dates (en)', () => {
    expect(
      values('My order number is AB123456, email me at Jo.Doe@Example.com or call +44 20 7946 0958. I paid $49.99 on 2026-03-01, need it by tomorrow'),
    ).toEqual([
      ['order_number', 'AB123456'],
      ['email', 'jo.doe@example.com'],
      ['phone', '+442079460958'],
      ['amount', { amount: 49.99, currency: 'USD' }],
      ['date', '2026-03-01'],
      ['date', '2026-03-11'],
    ]);
  });

  it('handles Chinese text and full-width digits with correct offsets', () => {
    const text = '订单号：２０２６０３１００１，手机13812345678，付了199元，3月5日下单，后天能到吗';
    const found = new EntityExtractor().extract(text, now);
    expect(found.map((e) => [e.type, e.value])).toEqual([
      ['order_number', '2026031001'],
      ['phone', '13812345678'],
      ['amount', { amount: 199, currency: 'CNY' }],
      ['date', '2026-03-05'],
      ['date', '2026-03-12'],
    ]);
    for (const e of found) expect(text.slice(e.start, e.end)).toBe(e.text);
  });

  it('does not take words for order numbers', () => {
    expect(values('my order is delayed again')).toEqual([]);
  });

  it('supports configured patterns and dictionaries', () => {
    const extractor = new EntityExtractor({
      patterns: [{ type: 'ticket', pattern: 'TCK-(\\d{4})' }],
      dictionaries: [{ type: 'product', entries: { 'Model X': ['mx', 'model-x'], 扫地机器人: ['扫地机'] } }],
    });
    expect(values('my MX broke, see TCK-0042; 扫地机也坏了', extractor)).toEqual([
      ['product', 'Model X'],
      ['ticket', '0042'],
      ['product', '扫地机器人'],
    ]);
  });

  it('survives garbage', () => {
    expect(values('')).toEqual([]);
    expect(new EntityExtractor().extract('9'.repeat(100_000)).length).toBeLessThan(10);
  });
});
