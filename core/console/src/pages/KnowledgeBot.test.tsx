import { describe, expect, it } from 'vitest';
import { answerPreviewHtml, sanitizeAnswer } from './KnowledgePage';
import { conditionText, localTextOf } from './BotPage';

describe('knowledge-base answers', () => {
  it('keep the allow-list (formatting, lists, links) and drop scripts, handlers, images and javascript: links', () => {
    const html = sanitizeAnswer(
      '<p onclick="x()">Hold <strong>10 s</strong></p><ul><li>a</li></ul><img src=x onerror=alert(1)><script>alert(2)</script><a href="javascript:alert(3)">bad</a><a href="https://example.com/r">ok</a><iframe src="https://x"></iframe><style>*{}</style>',
    );
    expect(html).not.toMatch(/onclick|onerror|<img|<script|javascript:|<iframe|<style/i);
    expect(html).toContain('<strong>10 s</strong>');
    expect(html).toContain('<li>a</li>');
    expect(html).toContain('href="https://example.com/r"');
  });
  it('render plain text as escaped paragraphs, like the core stores it', () => {
    expect(answerPreviewHtml('a < b\nline 2\n\nnext')).toBe('<p>a &lt; b<br>line 2</p><p>next</p>');
  });
});

describe('bot flow preview', () => {
  it('reads conditions in words', () => {
    expect(conditionText({ path: 'results.order.data.status', equals: 'shipped' })).toBe('results.order.data.status = "shipped"');
    expect(conditionText({ any: [{ path: 'a', gte: 3 }, { not: { path: 'b', exists: true } }] })).toBe('(a ≥ 3) or (not (b exists))');
  });
  it('turns the en/zh fields back into localised text, keeping other languages, null when empty', () => {
    expect(localTextOf({ en: 'Hi', zh: '' }, { en: 'old', zh: '旧', de: 'Hallo' })).toEqual({ de: 'Hallo', en: 'Hi' });
    expect(localTextOf({ en: ' ', zh: '' }, 'old')).toBeNull();
    expect(localTextOf({ en: 'Hi', zh: '你好' }, null)).toEqual({ en: 'Hi', zh: '你好' });
  });
});
