/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the API in tests */
/**
 * Agent assist over REST: suggestions from the KB and canned responses (with sources and
 * contact variables), key facts, emotion per message and trend, summary, feedback re-ranking.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SQLITE_BACKEND, type TestApp } from '../harness/test-app.js';
import { http, ok, say, setupBot, startBotApp, startErp } from '../bot/bot-helpers.js';

describe('agent assist (sqlite)', () => {
  let app: TestApp;
  let erp: Awaited<ReturnType<typeof startErp>>;
  let inboxId: string;

  beforeAll(async () => {
    erp = await startErp({});
    app = await startBotApp(await SQLITE_BACKEND.env());
    ({ inboxId } = await setupBot(app, erp.url));
  });

  afterAll(async () => {
    await app?.close();
    await erp?.close();
  });

  it('suggests replies with sources, extracts facts and emotions, summarises and learns from feedback', async () => {
    const call = http(app);
    ok(await call('POST', '/api/v1/automation/canned-responses', { name: 'Refund status', body: 'Hi {{contact.name}}, your refund is on its way.' }), 'canned');
    await say(app, inboxId, 'assist-1', 'I paid $45.90 for order SO-20240077 on 2026-11-20', { contact: { name: 'Li Wei', email: 'li@example.com' } });
    const angry = await say(app, inboxId, 'assist-1', 'This is ridiculous, my refund has still not arrived!');
    expect(angry.turn.action).toBe('handover');
    const snapshot = ok(await call('GET', `/api/v1/assist/conversations/${angry.conversationId}`), 'assist').json;
    const kb = snapshot.suggestions.find((s: any) => s.source.type === 'kb');
    expect(kb.source.title).toBe('How long does a refund take?');
    const canned = snapshot.suggestions.find((s: any) => s.source.type === 'canned');
    expect(canned.text).toBe('Hi Li Wei, your refund is on its way.');
    const facts = Object.fromEntries(snapshot.facts.map((f: any) => [f.type, f.value]));
    expect(facts).toMatchObject({ order_number: 'SO-20240077', date: '2026-11-20', amount: { amount: 45.9, currency: 'USD' }, email: 'li@example.com' });
    expect(snapshot.emotions.map((e: any) => e.emotion)).toEqual([expect.any(String), 'anger']);
    expect(snapshot.emotionTrend).toEqual({ trend: 'worsening', latest: 'anger' });

    const summary = ok(await call('GET', `/api/v1/assist/conversations/${angry.conversationId}/summary`), 'summary').json.summary;
    expect(summary).toContain('SO-20240077');

    const before = canned.score;
    for (let i = 0; i < 3; i++)
      ok(await call('POST', '/api/v1/assist/feedback', { conversationId: angry.conversationId, suggestionId: canned.id, action: 'ignored' }), 'feedback');
    const after = ok(await call('GET', `/api/v1/assist/conversations/${angry.conversationId}`), 'assist').json.suggestions.find((s: any) => s.id === canned.id);
    expect(after.score).toBeLessThan(before);
    expect((await call('GET', '/api/v1/assist/conversations/00000000-0000-4000-8000-00000000dead')).status).toBe(404);
  });
});
