import { describe, expect, it } from 'vitest';
import { en } from './locales/en';
import { zh } from './locales/zh';
import { translate } from './i18n';
import { safeUrl, sanitize, itemsOf, formatDuration } from './util';
import { nextClock, slaLevel } from './pages/TicketsPage';
import { parseExamples } from './pages/NlpPage';
import { configFromValues } from './components/SchemaForm';

describe('i18n', () => {
  it('zh-CN has every en-US key, and no empty or untranslated-placeholder strings', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [key, value] of Object.entries(zh)) {
      expect(value.trim()).not.toBe('');
      const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
      expect([key, placeholders(value)]).toEqual([key, placeholders(en[key as keyof typeof en])]);
    }
  });
  it('interpolates variables', () => {
    expect(translate('en-US', 'nlp.examples', { n: 3 })).toBe('3 examples loaded');
    expect(translate('zh-CN', 'nlp.examples', { n: 3 })).toBe('已载入 3 条样本');
  });
});

describe('rendering user content safely', () => {
  it('DOMPurify removes scripts, handlers and javascript: links', () => {
    const html = sanitize('<p onclick="x()">hi<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">l</a><style>*{}</style></p>');
    expect(html).not.toMatch(/script|onerror|onclick|javascript:|<style/i);
    expect(html).toContain('hi');
  });
  it('only http(s) URLs become links', () => {
    expect(safeUrl('https://example.com/a')).toBe('https://example.com/a');
    expect(safeUrl('javascript:alert(1)')).toBeNull();
    expect(safeUrl('data:text/html,<b>')).toBeNull();
  });
});

describe('SLA countdown colours', () => {
  const now = Date.parse('2026-01-05T10:00:00Z');
  const clock = (minutesLeft: number, target = 60, breached = false) => ({
    metric: 'first_response',
    state: 'running',
    targetMinutes: target,
    elapsedMinutes: target - minutesLeft,
    dueAt: new Date(now + minutesLeft * 60_000).toISOString(),
    breachedAt: null,
    achievedAt: null,
    breached,
  });
  it('is green with time left, orange under a quarter of the target, red when breached', () => {
    expect(slaLevel(clock(40), now)).toBe('ok');
    expect(slaLevel(clock(10), now)).toBe('warn');
    expect(slaLevel(clock(-5), now)).toBe('breach');
    expect(slaLevel(clock(30, 60, true), now)).toBe('breach');
  });
  it('picks the running clock due first', () => {
    expect(nextClock([clock(50), { ...clock(20), metric: 'resolution' }])?.metric).toBe('resolution');
  });
});

describe('helpers', () => {
  it('parses CSV and JSON-lines training data', () => {
    expect(parseExamples('text,label\n路由器坏了,fault\n{"text":"refund please","label":"refund"}\nbad line')).toEqual([
      { text: '路由器坏了', label: 'fault' },
      { text: 'refund please', label: 'refund' },
    ]);
  });
  it('keeps stored secrets when the write-only field is left empty', () => {
    const schema = { type: 'object', properties: { secret: { type: 'string', 'x-secret': true }, url: { type: 'string' } } };
    expect(configFromValues(schema, { secret: '', url: 'https://x' }, { secret: '********', url: 'https://old' })).toEqual({
      secret: '********',
      url: 'https://x',
    });
    expect(configFromValues(schema, { secret: 'new-secret', url: '' }, { secret: '********' })).toEqual({ secret: 'new-secret' });
  });
  it('reads lists and durations', () => {
    expect(itemsOf({ items: [1] })).toEqual([1]);
    expect(itemsOf([2])).toEqual([2]);
    expect(formatDuration(3725)).toBe('1h 2m');
  });
});
