import { describe, expect, it } from '@jest/globals';
import { matches } from './conditions.js';
import { renderTemplate, unknownVariables } from './template.js';
import { checkWebhookUrl, isPrivateAddress } from './ssrf.js';

describe('automation conditions', () => {
  const context = {
    ticket: { priority: 'high', tags: ['vip', 'printer'], subject: 'Printer on fire', createdAt: '2026-01-05T10:00:00Z' },
    message: { intent: 'refund', emotion: 'angry', language: 'zh', intentConfidence: 0.91 },
  };
  it('compares fields, lists, numbers and NLP fields', () => {
    expect(matches({ all: [{ field: 'ticket.priority', op: 'eq', value: 'HIGH' }] }, context)).toBe(true);
    expect(matches({ all: [{ field: 'ticket.tags', op: 'contains', value: 'vip' }] }, context)).toBe(true);
    expect(matches({ all: [{ field: 'ticket.subject', op: 'contains', value: 'fire' }] }, context)).toBe(true);
    expect(
      matches(
        {
          all: [
            { field: 'message.intent', op: 'in', value: ['refund', 'cancel'] },
            { field: 'message.intentConfidence', op: 'gte', value: 0.9 },
          ],
        },
        context,
      ),
    ).toBe(true);
    expect(
      matches(
        {
          any: [
            { field: 'message.emotion', op: 'eq', value: 'happy' },
            { field: 'message.language', op: 'eq', value: 'zh' },
          ],
        },
        context,
      ),
    ).toBe(true);
    expect(matches({ all: [{ field: 'message.emotion', op: 'neq', value: 'angry' }] }, context)).toBe(false);
    expect(matches({ all: [{ field: 'ticket.assigneeId', op: 'not_exists' }] }, context)).toBe(true);
    expect(matches({ all: [{ field: 'ticket.constructor', op: 'exists' }] }, context)).toBe(false);
    expect(matches({}, context)).toBe(true);
  });
});

describe('canned-response templates', () => {
  it('renders allow-listed variables once, never re-expanding values', () => {
    const text = renderTemplate('Hi {{contact.name}}, ticket {{ ticket.number }} {{process.env}}!', {
      'contact.name': '{{ticket.number}} <b>Ann</b>',
      'ticket.number': 'T-1042',
    });
    expect(text).toBe('Hi {{ticket.number}} <b>Ann</b>, ticket T-1042 !');
    expect(renderTemplate('{{contact.name}}', { 'contact.name': '<b>x</b>' }, 'html')).toBe('&lt;b&gt;x&lt;/b&gt;');
    expect(renderTemplate('{"n":"{{contact.name}}"}', { 'contact.name': 'a"b\n' }, 'json')).toBe('{"n":"a\\"b\\n"}');
    expect(renderTemplate('{{contact.name}}', { 'contact.name': '李雷 😀' })).toBe('李雷 😀');
    expect(unknownVariables('{{contact.name}} {{secret.key}}')).toEqual(['secret.key']);
  });
});

describe('webhook SSRF guard', () => {
  it('classifies addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
    ])
      expect([a, isPrivateAddress(a)]).toEqual([a, true]);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) expect([a, isPrivateAddress(a)]).toEqual([a, false]);
  });
  it('refuses private targets unless allow-listed, and odd URLs', async () => {
    const resolve = (async () => [{ address: '10.0.0.5', family: 4 }]) as never;
    expect(await checkWebhookUrl('http://internal.example/hook', [], resolve)).toMatchObject({ ok: false });
    expect(await checkWebhookUrl('http://internal.example/hook', ['internal.example'], resolve)).toMatchObject({ ok: true });
    expect(await checkWebhookUrl('http://127.0.0.1:8080/x', [])).toMatchObject({ ok: false });
    expect(await checkWebhookUrl('file:///etc/passwd', [])).toMatchObject({ ok: false });
    expect(await checkWebhookUrl('http://user:pw@example.com/', [])).toMatchObject({ ok: false });
    const publicResolve = (async () => [{ address: '93.184.216.34', family: 4 }]) as never;
    expect(await checkWebhookUrl('https://example.com/hook', [], publicResolve)).toMatchObject({ ok: true });
  });
});
