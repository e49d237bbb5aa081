/**
 * Bot flows end to end through the signed API channel on a real core: a flow step calling a
 * connector plugin's action through the plugin host (the fx-crm fixture in fixtures/crm-connector,
 * run in a worker like any plugin), flow timeouts driven by the scheduler on a manual clock, "start
 * over" in en and zh (and configurable phrases), and intent retraining from labelled bot turns
 * through the NLP trainer, activated and then used by the bot.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { backends, waitFor, type TestActor } from '../harness/test-app.js';
import { ManualClock } from '../../src/platform/clock/clock.js';
import { DEFAULT_BOT_CONFIG } from '../../src/bot/bot.types.js';
import { CRM_CONNECTOR, LOYALTY_FLOW_YAML, messagesOf, ok, say, withBotApp } from './bot-helpers.js';

const CRM_INSTANCE = 'crm-1';

describe.each(backends().map((b) => [b.name, b] as const))('bot flows, timeouts and retraining on %s', (_name, backend) => {
  // The scheduler and the bot read this clock: timeouts fire when the test moves it, without sleeping.
  const clock = new ManualClock(new Date());
  const bot = withBotApp({
    backend,
    clock,
    plugins: [CRM_CONNECTOR],
    orders: { 'SO-20240001': { status: 'shipped', carrier: 'SF Express', eta: '2026-12-03' } },
  });

  beforeAll(async () => {
    ok(await bot.call('POST', '/api/v1/plugins/fx-crm/instances', { id: CRM_INSTANCE, config: { brokenPhones: ['13900139000'] } }), 'crm connector instance');
    await waitFor(
      async () => (await bot.call('GET', `/api/v1/plugins/instances/${CRM_INSTANCE}`)).json?.status === 'running',
      20_000,
      'the CRM connector to run',
    );
    ok(await bot.call('POST', '/api/v1/bot/flows', { format: 'yaml', source: LOYALTY_FLOW_YAML.replaceAll('CRM_INSTANCE', CRM_INSTANCE) }), 'loyalty flow');
    ok(await bot.call('PUT', `/api/v1/bot/inboxes/${bot.inboxId}/config`, { config: { flows: ['order_status', 'loyalty_points'] } }), 'bot config');
  });

  const botTexts = async (conversationId: string) => (await messagesOf(bot.app, conversationId)).filter((m) => m.authorType === 'bot' && !m.private);

  it('refuses a plugin step without a valid instance or a connector action', async () => {
    const bad = await bot.call('POST', '/api/v1/bot/flows', {
      format: 'json',
      source: JSON.stringify({
        name: 'bad_plugin',
        steps: [{ id: 'c', type: 'call', plugin: { instance: 'CRM 1', action: 'dropTables' }, result: 'r' }],
      }),
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('bot_flow_invalid');
    expect(bad.json.error.details.problems).toEqual(
      expect.arrayContaining([expect.stringContaining('plugin.instance'), expect.stringContaining('plugin.action must be one of lookupCustomer, syncTicket')]),
    );
  });

  it('a flow step calls the connector plugin through the plugin host and branches on its answer (en and zh)', async () => {
    const ask = await say(bot.app, bot.inboxId, 'loyal-en', 'How many loyalty points do I have?');
    expect(ask.turn).toMatchObject({ action: 'flow', flow: 'loyalty_points' });
    expect(ask.replies[0].text).toBe('Which mobile number is your membership registered with?');
    const invalid = await say(bot.app, bot.inboxId, 'loyal-en', 'it is 12');
    expect(invalid.replies[0].text).toBe('That does not look like a mobile number. Please send it again.');
    const found = await say(bot.app, bot.inboxId, 'loyal-en', 'sure, 13800138000');
    // Li Lei, 1280 and gold exist only in the fixture plugin: the answer came through the plugin host.
    expect(found.replies[0].text).toBe('Li Lei, you have 1280 points (gold member).');
    const session = ok(await bot.call('GET', `/api/v1/bot/conversations/${ask.conversationId}/session`), 'session').json;
    expect(session.state).toMatchObject({ flow: null, slots: { phone: '13800138000' } });

    // Chinese, with the phone in the triggering message (slot pre-filled).
    const zh = await say(bot.app, bot.inboxId, 'loyal-zh', '查一下我的积分，手机号13700137000');
    expect(zh.replies[0].text).toBe('Ann Smith，您当前有 75 积分（silver 会员）。');

    // No such customer: the connector answers [] and the flow takes the other branch.
    const unknown = await say(bot.app, bot.inboxId, 'loyal-unknown', 'my points please: 13600136000');
    expect(unknown.replies[0].text).toBe('I could not find a membership for 13600136000.');

    // The connector throws: the step's onError branch answers instead of a hand-over.
    const down = await say(bot.app, bot.inboxId, 'loyal-down', 'my points please: 13900139000');
    expect(down.replies[0].text).toBe('The membership system is not answering right now; please try again later.');
    expect(down.turn.action).toBe('flow');
  });

  it('a flow waiting for a slot times out after timeoutSeconds, says so and resets (en and zh)', async () => {
    const en = await say(bot.app, bot.inboxId, 'timeout-en', 'where is my order');
    expect(en.replies[0].text).toContain('What is your order number?');
    const zh = await say(bot.app, bot.inboxId, 'timeout-zh', '查订单');
    expect(zh.replies[0].text).toContain('请提供您的订单号');

    clock.advance(200_000); // inside the flow's 300 s
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await botTexts(en.conversationId)).map((m) => m.text)).toHaveLength(1);

    clock.advance(101_000); // past 300 s
    const enTimeout = await waitFor(
      async () => (await botTexts(en.conversationId)).find((m) => m.text.startsWith('I stopped the order lookup')),
      10_000,
      'the en timeout message',
    );
    expect(enTimeout.text).toBe('I stopped the order lookup since we did not hear back. Write again any time.');
    await waitFor(
      async () => (await botTexts(zh.conversationId)).find((m) => m.text === '您较长时间没有回复，订单查询已结束，如需帮助请随时留言。'),
      10_000,
      'the zh timeout message',
    );
    const session = ok(await bot.call('GET', `/api/v1/bot/conversations/${en.conversationId}/session`), 'session').json;
    expect(session).toMatchObject({ mode: 'bot', state: { flow: null } });

    // The flow was reset: an order number now is not a slot answer and the ERP is not asked.
    const calls = bot.erp.calls.length;
    const late = await say(bot.app, bot.inboxId, 'timeout-en', 'SO-20240001');
    expect(late.turn.reason ?? '').not.toMatch(/^flow_/);
    expect(bot.erp.calls.length).toBe(calls);

    // A flow that got its answer in time has no timer left: moving the clock again sends nothing.
    const done = await say(bot.app, bot.inboxId, 'timeout-done', 'where is my order');
    await say(bot.app, bot.inboxId, 'timeout-done', 'SO-20240001');
    clock.advance(400_000);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await botTexts(done.conversationId)).some((m) => m.text.startsWith('I stopped'))).toBe(false);
  });

  it('"start over" / "重新开始" restarts the flow, and the phrases are configurable', async () => {
    await say(bot.app, bot.inboxId, 'restart-en', 'where is my order');
    const invalid = await say(bot.app, bot.inboxId, 'restart-en', 'it is 12345');
    expect(invalid.turn.reason).toMatch(/^flow_invalid/);
    const restarted = await say(bot.app, bot.inboxId, 'restart-en', 'start over');
    expect(restarted.turn).toMatchObject({ action: 'start_over', flow: 'order_status' });
    expect(restarted.replies.map((r) => r.text)).toEqual([
      "OK, let's start over. How can I help?",
      'Sure. What is your order number? It looks like SO-20240001.',
    ]);
    let session = ok(await bot.call('GET', `/api/v1/bot/conversations/${restarted.conversationId}/session`), 'session').json;
    expect(session.state.flow).toMatchObject({ name: 'order_status', stepId: 'ask_order', attempts: 0 });
    const answered = await say(bot.app, bot.inboxId, 'restart-en', 'SO-20240001');
    expect(answered.replies[0].text).toContain('has shipped with SF Express');

    await say(bot.app, bot.inboxId, 'restart-zh', '查订单');
    const zh = await say(bot.app, bot.inboxId, 'restart-zh', '重新开始');
    expect(zh.turn.action).toBe('start_over');
    expect(zh.replies.map((r) => r.text)).toEqual(['好的，我们重新开始。请问有什么可以帮您？', '好的，请提供您的订单号（格式如 SO-20240001）。']);

    // Configured phrases replace the defaults.
    ok(await bot.call('PUT', `/api/v1/bot/inboxes/${bot.inboxId}/config`, { config: { startOverPhrases: ['begin again', '从头来'] } }), 'phrases');
    try {
      await say(bot.app, bot.inboxId, 'restart-cfg', 'where is my order');
      const old = await say(bot.app, bot.inboxId, 'restart-cfg', 'start over');
      expect(old.turn.reason).toMatch(/^flow_invalid/);
      const custom = await say(bot.app, bot.inboxId, 'restart-cfg', 'begin again');
      expect(custom.turn.action).toBe('start_over');
      const zhCustom = await say(bot.app, bot.inboxId, 'restart-cfg', '从头来');
      expect(zhCustom.turn.action).toBe('start_over');
      expect(zhCustom.replies[0].text).toBe('好的，我们重新开始。请问有什么可以帮您？');
      session = ok(await bot.call('GET', `/api/v1/bot/conversations/${custom.conversationId}/session`), 'session').json;
      expect(session.state.flow).toMatchObject({ name: 'order_status', stepId: 'ask_order' });
    } finally {
      ok(
        await bot.call('PUT', `/api/v1/bot/inboxes/${bot.inboxId}/config`, { config: { startOverPhrases: DEFAULT_BOT_CONFIG.startOverPhrases } }),
        'phrases back',
      );
    }
  });

  it('retrains the intent model from turns agents labelled; the activated model classifies a paraphrase it missed', async () => {
    const agent: TestActor = { roles: ['agent'], teamIds: ['team-a'], sub: 'bot-label-agent', name: 'Label Agent' };
    const outsider: TestActor = { roles: ['agent'], teamIds: ['team-b'], sub: 'bot-label-outsider', name: 'Outsider' };
    const paraphrase = 'how many reward points are left on my account';
    const annotate = async () =>
      ok(await bot.call('POST', '/api/v1/nlp/annotate', { text: paraphrase, scope: bot.inboxId }), 'annotate').json as { intent: string | null };
    expect((await annotate()).intent).not.toBe('loyalty_points');

    const questions = [
      'how many bonus points do I have',
      'check my reward points balance',
      'what is my membership points total',
      'points balance please',
      'how many points did I collect',
      'can I see my points',
      '我的会员积分还有多少',
      '查询一下积分余额',
    ];
    const turns: Array<{ id: string; conversationId: string }> = [];
    for (const [i, text] of questions.entries()) {
      const said = await say(bot.app, bot.inboxId, `label-${i}`, text);
      turns.push({ id: said.turn.id, conversationId: said.conversationId });
    }
    // An agent outside the conversation's team cannot label its turns.
    ok(await bot.call('POST', `/api/v1/conversations/${turns[0].conversationId}/assign`, { agentId: null, teamId: 'team-a' }), 'team');
    const denied = await bot.call('PATCH', `/api/v1/bot/turns/${turns[0].id}`, { label: 'loyalty_points' }, outsider);
    expect([denied.status, denied.json.error.code]).toEqual([404, 'bot_turn_not_found']);
    const badLabel = await bot.call('PATCH', `/api/v1/bot/turns/${turns[0].id}`, { label: 'not a label!' }, agent);
    expect([badLabel.status, badLabel.json.error.code]).toEqual([400, 'bot_training_invalid']);
    for (const turn of turns) ok(await bot.call('PATCH', `/api/v1/bot/turns/${turn.id}`, { label: 'loyalty_points' }, agent), 'label');
    const labelled = ok(await bot.call('GET', `/api/v1/bot/turns?inboxId=${bot.inboxId}&labelled=true`), 'labelled').json.items;
    expect(labelled).toHaveLength(questions.length);

    const job = ok(await bot.call('POST', '/api/v1/bot/training', { inboxId: bot.inboxId, activate: false, maxEpochs: 10 }), 'retrain').json;
    expect(job).toMatchObject({ name: `intent:${bot.inboxId}`, task: 'intent', labelledExamples: questions.length });
    const finished = await waitFor(
      async () => {
        const view = ok(await bot.call('GET', `/api/v1/nlp/training-jobs/${job.id}`), 'job').json;
        if (view.status === 'failed') throw new Error(view.error);
        return view.status === 'succeeded' ? view : undefined;
      },
      120_000,
      'the training job',
    );
    // Trained but not active yet: the bot still uses the old model.
    expect((await annotate()).intent).not.toBe('loyalty_points');
    ok(await bot.call('POST', `/api/v1/nlp/models/${encodeURIComponent(`intent:${bot.inboxId}`)}/activate`, { version: finished.modelVersion }), 'activate');
    const after = await waitFor(
      async () => {
        const a = await annotate();
        return a.intent === 'loyalty_points' ? a : undefined;
      },
      10_000,
      'the new model to classify the paraphrase',
    );
    expect(after.intent).toBe('loyalty_points');

    // The bot uses it: the paraphrase (no trigger phrase in it) starts the loyalty flow by intent.
    const turn = await say(bot.app, bot.inboxId, 'label-new', paraphrase);
    expect(turn.turn).toMatchObject({ intent: 'loyalty_points', action: 'flow', flow: 'loyalty_points' });
    expect(turn.replies[0].text).toBe('Which mobile number is your membership registered with?');
  });
});
