/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the API in tests */
/**
 * Agent assist over REST: suggestions from the KB and canned responses (with sources and
 * contact variables), key facts, emotion per message and trend, summary, feedback re-ranking;
 * and pushed over the WebSocket gateway to the agent holding the conversation (team-scoped).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestActor, TestApp } from '../harness/test-app.js';
import { TestSocket } from '../realtime/ws-client.js';
import { http, ok, say, withBotApp } from '../bot/bot-helpers.js';

describe('agent assist (sqlite)', () => {
  const bot = withBotApp();
  let app: TestApp;
  let inboxId: string;
  beforeAll(() => {
    ({ app, inboxId } = bot);
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

  const sockets: TestSocket[] = [];
  afterAll(() => {
    for (const socket of sockets) socket.terminate();
  });

  const agentSocket = async (actor: TestActor) => {
    const token = (await bot.app.authHeaders(actor)).authorization!.replace(/^Bearer /, '');
    const socket = await TestSocket.connect(bot.app.url, { token });
    sockets.push(socket);
    await socket.waitFor(() => socket.frames.find((f) => f.event === 'welcome'), 10_000, 'welcome');
    return socket;
  };

  it('pushes suggestions, key facts and emotions to the agent holding the conversation, and nothing to an agent of another team', async () => {
    const agentA: TestActor = { roles: ['agent'], teamIds: ['team-a'], sub: 'assist-agent-a', name: 'Agent A' };
    const agentB: TestActor = { roles: ['agent'], teamIds: ['team-b'], sub: 'assist-agent-b', name: 'Agent B' };
    const me = ok(await bot.call('GET', '/api/v1/auth/me', undefined, agentA), 'me').json.actor;
    const first = await say(bot.app, bot.inboxId, 'assist-ws', 'how long does a refund take?');
    const conversationId = first.conversationId;
    // An agent of team A takes the conversation over (the bot goes silent).
    ok(await bot.call('POST', `/api/v1/conversations/${conversationId}/assign`, { agentId: me.id, teamId: 'team-a' }), 'assign');

    const a = await agentSocket(agentA);
    a.send('subscribe', { topic: 'conversation', id: conversationId, afterSeq: 0, ref: 'conv' });
    await a.next('subscribed', (d) => d.ref === 'conv');
    const b = await agentSocket(agentB);
    b.send('subscribe', { topic: 'conversation', id: conversationId, afterSeq: 0, ref: 'conv' });
    expect((await b.next('error', (d) => d.ref === 'conv')).data.code).toBe('not_found');

    await say(bot.app, bot.inboxId, 'assist-ws', 'Still no refund for order SO-20240123, I paid ¥299 on 2026-11-02. This is ridiculous!', {
      expectTurn: false,
    });
    const frame = await a.waitFor(
      () =>
        a.frames.find(
          (f) =>
            f.event === 'conversation.event' &&
            f.data.type === 'assist' &&
            f.data.conversationId === conversationId &&
            (f.data.facts as Array<{ type: string; value: unknown }>).some((x) => x.type === 'order_number' && x.value === 'SO-20240123'),
        ),
      15_000,
      'the assist frame for the new customer message',
    );
    const data = frame.data as any;
    // The same suggestions (KB answers with their source) the REST endpoint gives for the conversation.
    const rest = ok(await bot.call('GET', `/api/v1/assist/conversations/${conversationId}`), 'assist').json;
    expect(data.suggestions.length).toBeGreaterThan(0);
    expect(data.suggestions.map((s: any) => s.id)).toEqual(rest.suggestions.map((s: any) => s.id));
    expect(data.suggestions.find((s: any) => s.source.type === 'kb')?.source).toMatchObject({ title: expect.any(String) });
    expect(data.facts.map((f: any) => f.type)).toEqual(expect.arrayContaining(['order_number', 'amount', 'date']));
    expect(data.emotions.at(-1).emotion).toBe('anger');
    expect(data.emotionTrend.latest).toBe('anger');

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(b.frames.filter((f) => f.data.conversationId === conversationId && f.event !== 'error')).toEqual([]);
    expect(JSON.stringify(b.frames)).not.toContain('SO-20240123');
  });
});
