/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the API in tests */
/**
 * Knowledge base: versions and diffs, sanitising, import/export round trips, feedback, team
 * scope, unanswered-question mining and the learning loop (SQLite); a publish answerable
 * within 5 s on a second core instance (MariaDB + NATS, two instances on one store).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MYSQL_BACKEND, mysqlAvailable, waitFor, type TestApp } from '../harness/test-app.js';
import { FAQ, http, messagesOf, ok, say, setupBot, startBotApp, startErp, withBotApp } from '../bot/bot-helpers.js';

describe('knowledge base (sqlite)', () => {
  const bot = withBotApp();
  let app: TestApp;
  let inboxId: string;
  beforeAll(() => {
    ({ app, inboxId } = bot);
  });

  it('keeps versions with author and diff; publishing changes what the bot uses', async () => {
    const call = http(app);
    const created = ok(
      await call('POST', '/api/v1/knowledge/entries', {
        questions: ['Do you sell gift cards?'],
        answer: '<p onclick="steal()">Yes, <b>gift cards</b> from $10.</p><script>alert(1)</script><a href="javascript:x">bad</a>',
        language: 'en',
        tags: ['gifts'],
      }),
      'create',
    ).json;
    expect(created).toMatchObject({ status: 'draft', version: 1, publishedVersion: null });
    expect(created.answer).toBe('<p>Yes, <b>gift cards</b> from $10.</p><a rel="noopener noreferrer">bad</a>');
    const updated = ok(
      await call('PATCH', `/api/v1/knowledge/entries/${created.id}`, { questions: ['Do you sell gift cards?', 'gift voucher'], expectedVersion: 1 }),
      'update',
    ).json;
    expect(updated.version).toBe(2);
    const stale = await call('PATCH', `/api/v1/knowledge/entries/${created.id}`, { tags: ['x'], expectedVersion: 1 });
    expect([stale.status, stale.json.error.code]).toEqual([409, 'kb_version_conflict']);
    const versions = ok(await call('GET', `/api/v1/knowledge/entries/${created.id}/versions`), 'versions').json.items;
    expect(versions.map((v: any) => [v.version, v.action, v.authorName])).toEqual([
      [2, 'updated', 'Bot Test Admin'],
      [1, 'created', 'Bot Test Admin'],
    ]);
    expect(versions[0].diff).toBe('+ question: gift voucher');

    const before = await say(app, inboxId, 'kb-1', 'do you sell gift cards');
    expect(before.turn.action).not.toBe('answer');
    ok(await call('POST', `/api/v1/knowledge/entries/${created.id}/publish`), 'publish');
    const after = await say(app, inboxId, 'kb-2', 'do you sell gift cards');
    expect(after.turn).toMatchObject({ action: 'answer', kbEntryId: created.id });
    expect(after.replies[0].text).toContain('gift cards from $10');

    // Agent feedback counts once per agent and conversation.
    const fb = ok(
      await call('POST', `/api/v1/knowledge/entries/${created.id}/feedback`, { helpful: true, conversationId: after.conversationId }),
      'feedback',
    ).json;
    const again = ok(
      await call('POST', `/api/v1/knowledge/entries/${created.id}/feedback`, { helpful: true, conversationId: after.conversationId }),
      'feedback',
    ).json;
    expect([fb.recorded, again.recorded, again.helpful]).toEqual([true, false, 1]);
  });

  it('exports and re-imports CSV and Markdown without loss', async () => {
    const call = http(app);
    for (const format of ['csv', 'markdown', 'json'] as const) {
      const exported = ok(await call('GET', `/api/v1/knowledge/export?format=${format}&status=published`), 'export').text;
      const kbId = `copy-${format}`;
      const result = ok(await call('POST', '/api/v1/knowledge/import', { format, content: exported, kbId, publish: true }), 'import').json;
      expect(result.created).toBe(FAQ.entries.length + 1);
      const copy = ok(await call('GET', `/api/v1/knowledge/entries?kbId=${kbId}&limit=1000`), 'list').json.items;
      const original = FAQ.entries.find((e) => e.language === 'zh')!;
      const same = copy.find((e: any) => e.questions[0] === original.questions[0]);
      expect(same.questions).toEqual(original.questions);
      expect(same.language).toBe('zh');
      const hits = ok(await call('GET', `/api/v1/knowledge/search?kbId=${kbId}&q=${encodeURIComponent('我忘记密码了')}`), 'search').json.items;
      expect(hits[0].question).toBe('如何重置密码？');
    }
    const bad = await call('POST', '/api/v1/knowledge/import', { format: 'csv', content: 'title,foo\nx,y' });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'kb_import_invalid']);
  });

  it('hides another team’s entries from an agent', async () => {
    const call = http(app);
    const entry = ok(
      await call('POST', '/api/v1/knowledge/entries', {
        questions: ['internal escalation matrix'],
        answer: 'Call the duty manager.',
        audience: 'internal',
        teamId: 'team-b',
      }),
      'create',
    ).json;
    const agentA = { roles: ['agent' as const], teamIds: ['team-a'] };
    const agentB = { roles: ['agent' as const], teamIds: ['team-b'] };
    expect((await call('GET', `/api/v1/knowledge/entries/${entry.id}`, undefined, agentA)).status).toBe(404);
    expect((await call('GET', `/api/v1/knowledge/entries/${entry.id}`, undefined, agentB)).status).toBe(200);
    expect((await call('POST', '/api/v1/knowledge/entries', { questions: ['x'], answer: 'y' }, agentB)).status).toBe(403);
  });

  it('mines unanswered questions into a proposal and learns from an agent’s answer', async () => {
    const call = http(app);
    // The bot cannot answer these: it clarifies, then hands over.
    const a = await say(app, inboxId, 'mine-1', 'is there a physical shop I can visit?');
    expect(a.turn.action).toBe('clarify');
    await say(app, inboxId, 'mine-2', 'can I visit a physical shop?');
    const handedOver = await say(app, inboxId, 'mine-1', 'where is your physical shop to visit?');
    expect(handedOver.turn.action).toBe('handover');
    const unanswered = ok(await call('GET', '/api/v1/knowledge/unanswered'), 'unanswered').json.items;
    expect(unanswered.length).toBeGreaterThanOrEqual(3);
    const mined = ok(await call('POST', '/api/v1/knowledge/mining/run', {}), 'mine').json.items;
    const proposal = mined.find((p: any) => p.questions.some((q: string) => q.includes('physical shop')));
    expect(proposal).toMatchObject({ kind: 'new_faq', source: 'mining', status: 'pending' });
    expect(proposal.occurrences).toBeGreaterThanOrEqual(2);
    const approved = ok(
      await call('POST', `/api/v1/knowledge/proposals/${proposal.id}/approve`, {
        answer: 'Our showroom is at 1 Harbour Road, open daily 10:00–19:00.',
        publish: true,
      }),
      'approve',
    ).json;
    expect(approved.entry.status).toBe('published');
    const answered = await say(app, inboxId, 'mine-3', 'can I visit a physical shop?');
    expect(answered.turn).toMatchObject({ action: 'answer', kbEntryId: approved.entry.id });

    // Learning loop: the agent answers the conversation the bot handed over.
    ok(
      await call('POST', `/api/v1/conversations/${handedOver.conversationId}/messages`, {
        text: 'Yes, our showroom at 1 Harbour Road is open on weekdays from 9 to 5.',
      }),
      'agent reply',
    );
    const learned = await waitFor(
      async () => ok(await call('GET', '/api/v1/knowledge/proposals?status=pending'), 'proposals').json.items.find((p: any) => p.source === 'agent_answer'),
      10_000,
      'the learning-loop proposal',
    );
    expect(learned.questions.join(' ')).toContain('physical shop');
    expect(learned.answer).toContain('weekdays');
    const rejected = ok(await call('POST', `/api/v1/knowledge/proposals/${learned.id}/reject`), 'reject').json;
    expect(rejected.status).toBe('rejected');
    expect(await messagesOf(app, handedOver.conversationId)).toEqual(expect.arrayContaining([expect.objectContaining({ private: true, authorType: 'bot' })]));
  });
});

const describeMysql = mysqlAvailable() ? describe : describe.skip;

describeMysql('knowledge publish on a second instance (mariadb+nats)', () => {
  let a: TestApp;
  let b: TestApp;
  let erp: Awaited<ReturnType<typeof startErp>>;

  beforeAll(async () => {
    erp = await startErp({});
    const env = await MYSQL_BACKEND.env();
    a = await startBotApp({ ...env, SWITCHBOARD_INSTANCE_ID: 'core-a' });
    b = await startBotApp({ ...env, SWITCHBOARD_INSTANCE_ID: 'core-b' });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await erp?.close();
  });

  it('a publish on instance A is answerable on instance B within 5 s', async () => {
    const { inboxId } = await setupBot(a, erp.url);
    const question = 'Can I book a video call with a product expert?';
    const searchB = async () => ok(await http(b)('GET', `/api/v1/knowledge/search?q=${encodeURIComponent(question)}`), 'search on B').json.items;
    await waitFor(async () => (await searchB()).length > 0, 10_000, 'B to index the imported FAQ');
    expect((await searchB())[0]?.title).not.toContain('video call');
    const created = ok(
      await http(a)('POST', '/api/v1/knowledge/entries', {
        questions: [question, 'video consultation'],
        answer: 'Yes, book one from the product page.',
        publish: true,
      }),
      'publish on A',
    ).json;
    const started = Date.now();
    await waitFor(async () => (await searchB())[0]?.entryId === created.id, 5_000, 'instance B to answer from the new entry');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(5_000);
    // And the bot answers it, whichever instance takes the turn, with B receiving the message.
    const reply = await say(b, inboxId, 'two-instances', question);
    expect(reply.turn).toMatchObject({ action: 'answer', kbEntryId: created.id });
  });
});
