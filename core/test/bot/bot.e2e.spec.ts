/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the API in tests */
/**
 * Bot end to end: scripted conversations through the signed API channel on a real core, with
 * the project's own FAQ (test/bot/fixtures/faq.json, en + zh) imported and published, the
 * order-status flow (fixtures/order-status.flow.yaml) against a local HTTP server playing the
 * ERP, and the analytics report checked for containment and transfer rates.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { backends, waitFor, type TestApp } from '../harness/test-app.js';
import { FAQ, http, messagesOf, ok, say, withBotApp, type Erp } from './bot-helpers.js';
import { BotRuntime } from '../../src/bot/bot.runtime.js';
import { BotService } from '../../src/bot/bot.service.js';

const ids = {
  password: FAQ.entries[0].id,
  returns: FAQ.entries[2].id,
  refund: FAQ.entries[3].id,
};

describe.each(backends().map((b) => [b.name, b] as const))('bot on %s', (_name, backend) => {
  const bot = withBotApp({
    backend,
    orders: {
      'SO-20240001': { status: 'shipped', carrier: 'SF Express', eta: '2026-12-03' },
      'SO-20249999': { status: 'delayed' },
    },
  });
  const started = new Date(Date.now() - 60_000);
  const contained: string[] = [];
  const transferred: string[] = [];
  let app: TestApp;
  let erp: Erp;
  let inboxId: string;
  beforeAll(() => {
    ({ app, erp, inboxId } = bot);
  });

  const resolve = async (conversationId: string) => ok(await http(app)('PATCH', `/api/v1/conversations/${conversationId}`, { status: 'resolved' }), 'resolve');

  it('answers a FAQ question in English and in Chinese, and resolves on thanks', async () => {
    const en = await say(app, inboxId, 'cust-en', 'I forgot my password');
    expect(en.turn).toMatchObject({ action: 'answer', kbEntryId: ids.password });
    expect(en.replies.map((r) => r.text).join('\n')).toContain('Forgot password');
    const thanks = await say(app, inboxId, 'cust-en', 'thank you, that helped!');
    expect(thanks.turn.action).toBe('smalltalk');
    await waitFor(async () => (await http(app)('GET', `/api/v1/conversations/${en.conversationId}`)).json?.status === 'resolved', 10_000, 'the bot to resolve');
    contained.push(en.conversationId);

    const zh = await say(app, inboxId, 'cust-zh', '密码忘了怎么办');
    expect(zh.turn).toMatchObject({ action: 'answer', language: 'zh', kbEntryId: FAQ.entries[12].id });
    expect(zh.replies[0].text).toContain('忘记密码');
    await resolve(zh.conversationId);
    contained.push(zh.conversationId);
  });

  it('gives a redelivered message no second turn', async () => {
    const first = await say(app, inboxId, 'cust-redelivered', 'I forgot my password');
    expect(first.turn.action).toBe('answer');
    const before = await messagesOf(app, first.conversationId);
    const inbound = before.find((m) => m.id === first.messageId);
    const conversation = ok(await http(app)('GET', `/api/v1/conversations/${first.conversationId}`), 'conversation').json;
    // The same message_created again, as a bus redelivery after a crash would bring it.
    await app.app.get(BotRuntime).turn(
      {
        conversationId: first.conversationId,
        messageId: first.messageId,
        seq: inbound.seq,
        direction: 'in',
        authorType: 'contact',
        authorId: inbound.authorId,
        private: false,
        channel: 'api',
        inboxId,
        contactId: conversation.contactId,
        teamId: conversation.teamId,
      },
      app.app.get(BotService).configFor(inboxId)!,
    );
    expect((await messagesOf(app, first.conversationId)).length).toBe(before.length);
    const turns = ok(await http(app)('GET', `/api/v1/bot/turns?conversationId=${first.conversationId}&limit=200`), 'turns').json.items as Array<{
      messageId: string;
    }>;
    expect(turns.filter((turn) => turn.messageId === first.messageId)).toHaveLength(1);
    await resolve(first.conversationId);
    contained.push(first.conversationId);
  });

  it('offers suggestions for an ambiguous question and answers the one chosen (en button, zh by number)', async () => {
    const ambiguous = await say(app, inboxId, 'cust-amb', 'return or refund?');
    expect(ambiguous.turn.action).toBe('suggest');
    const buttons = ambiguous.replies[0].content.buttons as Array<{ label: string; value: string }>;
    expect(buttons.length).toBeGreaterThanOrEqual(2);
    expect(buttons.map((b) => b.value)).toEqual(expect.arrayContaining([`#kb:${ids.returns}`, `#kb:${ids.refund}`]));
    const chosen = await say(app, inboxId, 'cust-amb', `#kb:${ids.returns}`);
    expect(chosen.turn).toMatchObject({ action: 'answer', kbEntryId: ids.returns, reason: 'suggestion_chosen' });
    expect(chosen.replies[0].text).toContain('30 days');
    await resolve(ambiguous.conversationId);
    contained.push(ambiguous.conversationId);

    const zh = await say(app, inboxId, 'cust-amb-zh', '退货退款');
    expect(zh.turn.action).toBe('suggest');
    const zhButtons = zh.replies[0].content.buttons as Array<{ label: string; value: string }>;
    const second = await say(app, inboxId, 'cust-amb-zh', '2');
    expect(second.turn.action).toBe('answer');
    expect(`#kb:${second.turn.kbEntryId}`).toBe(zhButtons[1].value);
  });

  it('runs the order-status flow: asks, rejects an invalid number, queries the ERP, answers', async () => {
    const start = await say(app, inboxId, 'cust-order', 'Where is my order?');
    expect(start.turn.action).toBe('flow');
    expect(start.replies[0].text).toContain('order number');
    const invalid = await say(app, inboxId, 'cust-order', 'it is 12345');
    expect(invalid.turn.reason).toMatch(/^flow_invalid/);
    expect(invalid.replies[0].text).toContain("doesn't look like an order number");
    const calls = erp.calls.length;
    const answer = await say(app, inboxId, 'cust-order', 'SO-20240001');
    expect(erp.calls.slice(calls)).toEqual(['/orders/SO-20240001']);
    expect(answer.replies[0].text).toBe('Order SO-20240001 has shipped with SF Express, expected on 2026-12-03.');
    const session = ok(await http(app)('GET', `/api/v1/bot/conversations/${start.conversationId}/session`), 'session').json;
    expect(session).toMatchObject({ mode: 'bot', state: { flow: null, slots: { order_number: 'SO-20240001' } } });
    await resolve(start.conversationId);
    contained.push(start.conversationId);

    // Chinese, with the number in the first message (slot pre-filled from the trigger).
    const zh = await say(app, inboxId, 'cust-order-zh', '查订单 SO-20240001');
    expect(zh.replies[0].text).toContain('已由 SF Express 发出');
  });

  it('hands an angry customer over with a note holding the slots and the emotion, then stays silent', async () => {
    await say(app, inboxId, 'cust-angry', 'where is my order');
    const delayed = await say(app, inboxId, 'cust-angry', 'SO-20249999');
    expect(delayed.replies[0].text).toBe('Order SO-20249999 is delayed.');
    const angry = await say(app, inboxId, 'cust-angry', 'This is ridiculous, the parcel is late again and nobody helps!');
    expect(angry.turn).toMatchObject({ action: 'handover', reason: 'anger', emotion: 'anger' });
    const note = await waitFor(
      async () => (await messagesOf(app, angry.conversationId)).find((m) => m.private && m.authorType === 'bot'),
      10_000,
      'the hand-over note',
    );
    expect(note.text).toContain('order_number=SO-20249999');
    expect(note.text).toMatch(/Emotion trend: .*anger/);
    expect(note.text).toContain('Summary:');
    expect(angry.replies.some((r) => !r.private && /colleague/.test(r.text))).toBe(true);
    const routing = await waitFor(async () => (await http(app)('GET', `/api/v1/routing/conversations/${angry.conversationId}`)).json, 10_000, 'routing state');
    expect(routing).toMatchObject({ state: 'queued', emotion: 'angry' });

    const after = await say(app, inboxId, 'cust-angry', 'hello?? anyone?', { expectTurn: false });
    await new Promise((r) => setTimeout(r, 800));
    const later = await messagesOf(app, angry.conversationId);
    const inbound = later.find((m) => m.id === after.messageId);
    expect(later.filter((m) => m.seq > inbound.seq && m.authorType === 'bot')).toEqual([]);
    transferred.push(angry.conversationId);
  });

  it('hands a VIP contact over on the first message, however answerable it is', async () => {
    const call = http(app);
    const vip = ok(await call('POST', '/api/v1/contacts', { name: 'Very Important', vip: true }), 'vip contact').json;
    ok(await call('POST', `/api/v1/contacts/${vip.id}/identities`, { channel: 'api', externalId: 'cust-vip' }), 'vip identity');
    const first = await say(app, inboxId, 'cust-vip', 'I forgot my password');
    expect(first.turn).toMatchObject({ action: 'handover', reason: 'vip' });
    expect(first.replies.some((r) => r.authorType === 'bot' && !r.private)).toBe(true);
    const conversation = ok(await call('GET', `/api/v1/conversations/${first.conversationId}`), 'conversation').json;
    expect(conversation.contactId).toBe(vip.id);
    // A regular contact asking the same question gets the answer.
    const regular = await say(app, inboxId, 'cust-not-vip', 'I forgot my password');
    expect(regular.turn).toMatchObject({ action: 'answer', kbEntryId: ids.password });
    transferred.push(first.conversationId);
    await resolve(first.conversationId);
    await resolve(regular.conversationId);
    contained.push(regular.conversationId);
  });

  it('"转人工" hands over and the bot stays silent until the conversation is resolved', async () => {
    const first = await say(app, inboxId, 'cust-human', '怎么开发票？');
    expect(first.turn.action).toBe('answer');
    const human = await say(app, inboxId, 'cust-human', '转人工');
    expect(human.turn).toMatchObject({ action: 'handover', reason: 'explicit_request' });
    expect(human.replies.some((r) => r.text.includes('人工客服'))).toBe(true);
    const silent = await say(app, inboxId, 'cust-human', '还在吗？', { expectTurn: false });
    await new Promise((r) => setTimeout(r, 800));
    const turns = ok(await http(app)('GET', `/api/v1/bot/turns?conversationId=${human.conversationId}`), 'turns').json.items;
    expect(turns.find((t: any) => t.messageId === silent.messageId)).toBeUndefined();
    transferred.push(human.conversationId);
    // Hand-over reasons feed the learning loop: an agent's answer becomes a proposal.
    ok(
      await http(app)('POST', `/api/v1/conversations/${human.conversationId}/messages`, { text: 'Invoices are under My orders; I have emailed yours.' }),
      'agent reply',
    );
  });

  it('computes containment and transfer rates for the scripted set in the analytics report', async () => {
    const to = new Date(Date.now() + 60_000).toISOString();
    const report = await waitFor(
      async () => {
        const r = ok(await http(app)('GET', `/api/v1/analytics/report?from=${started.toISOString()}&to=${to}&groupBy=channel`), 'report').json;
        return r.totals.botConversations === 11 && r.totals.containmentRate !== null ? r : undefined;
      },
      20_000,
      'analytics to count the bot conversations',
    );
    // 11 conversations with the bot: 6 resolved without a human, 3 handed over, 2 still open (the report rounds rates to 4 places).
    expect(contained).toHaveLength(6);
    expect(transferred).toHaveLength(3);
    expect(report.totals.containmentRate).toBeCloseTo(6 / 11, 3);
    expect(report.totals.transferRate).toBeCloseTo(3 / 11, 3);
  });
});
