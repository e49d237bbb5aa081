import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { createLocalAdmin } from '../../src/identity/local-accounts.js';
import { RealtimeHub } from '../../src/realtime/realtime.hub.js';
import { ensureConsoleBuilt } from './console-build.js';
import { launchBrowser } from './browser.js';

const TEAM = 'support-cn';
const AGENT = { sub: 'agent-lin', roles: ['agent'] as const, groups: [TEAM], name: 'Lin Agent', email: 'lin@example.test' };
const SUPERVISOR = { sub: 'sup-wang', roles: ['supervisor'] as const, groups: [TEAM], name: 'Wang Supervisor', email: 'wang@example.test' };
const ADMIN_PASSWORD = 'correct horse battery staple';
const XSS_NAME = '<img src=x onerror="window.__xss=1">Mallory';
const XSS_TEXT = '<script>window.__xss=2</script><img src=x onerror="window.__xss=3"> 我的路由器坏了 my router is broken';

interface Frame {
  event: string;
  data: Record<string, unknown>;
}

/** A web-chat visitor on the gateway, with a visitor token from the API. */
class Visitor {
  frames: Frame[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => this.frames.push(JSON.parse(String(raw)) as Frame));
  }
  static async connect(app: TestApp, inboxId: string, visitorId: string): Promise<Visitor> {
    const response = await fetch(`${app.url}/api/v1/realtime/visitor-tokens`, {
      method: 'POST',
      headers: { ...(await app.authHeaders({ roles: ['admin'] })), 'content-type': 'application/json' },
      body: JSON.stringify({ visitorId, inboxId }),
    });
    expect(response.status).toBe(201);
    const { token } = (await response.json()) as { token: string };
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/ws`, ['switchboard.v1', `visitor.${token}`]);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Visitor(ws);
  }
  send(text: string, clientMessageId: string): void {
    this.ws.send(JSON.stringify({ event: 'message.send', data: { clientMessageId, text } }));
  }
  async ack(clientMessageId: string): Promise<{ conversationId: string }> {
    return waitFor(
      () =>
        this.frames.find((frame) => frame.event === 'message.ack' && frame.data.clientMessageId === clientMessageId)?.data as
          { conversationId: string } | undefined,
      10_000,
      'message.ack',
    );
  }
  received(): Array<{ text: string; authorType: string; content?: { type?: string } | null }> {
    return this.frames
      .filter((frame) => frame.event === 'message')
      .map((frame) => frame.data.message as { text: string; authorType: string; content?: { type?: string } | null });
  }
}

async function api<T>(app: TestApp, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`${app.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(await app.authHeaders({ roles: ['admin'] })), ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function ssoLogin(app: TestApp, browser: Browser, user: typeof AGENT | typeof SUPERVISOR): Promise<{ context: BrowserContext; page: Page }> {
  app.issuer!.loginUser = { sub: user.sub, roles: [...user.roles], groups: user.groups, name: user.name, email: user.email };
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(app.url);
  await page.getByTestId('sso-login').click();
  await page.waitForURL((url) => url.origin === app.url && !url.pathname.startsWith('/api/'), { timeout: 15_000 });
  await page.getByTestId('user-menu').waitFor({ timeout: 15_000 });
  return { context, page };
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('agent console end to end on %s', (_name, backend) => {
  let app: TestApp;
  let browser: Browser;
  let inboxId: string;
  let visitor: Visitor | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    app = await startTestApp({ env: await backend.env() });
    await createLocalAdmin(app.app.get<DataSource>(DATA_SOURCE), { username: 'admin', password: ADMIN_PASSWORD });
    await api(app, '/api/v1/teams', { method: 'POST', body: { id: TEAM, name: 'Support CN' } }).catch(() => undefined);
    inboxId = (await api<{ id: string }>(app, '/api/v1/inboxes', { method: 'POST', body: { name: 'Website chat', channel: 'webchat', teamId: TEAM } })).id;
    await api(app, '/api/v1/automation/canned-responses', {
      method: 'POST',
      body: { name: 'Router reset', shortcut: 'router', body: 'Hello {{contact.name}}, please restart the router and tell me if the light turns green.' },
    });
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    visitor?.ws.terminate();
    await browser?.close();
    await app?.close();
  });

  it('an agent signs in, goes online, sees a visitor message arrive live (and resume after a dropped socket), replies with a suggestion, resolves; the visitor gets the reply and the CSAT request; XSS renders as text', async () => {
    const { context, page } = await ssoLogin(app, browser, AGENT);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.dismiss());
    await page.waitForURL(/\/inbox/);
    // No token in storage: the session is an HttpOnly cookie.
    const storage = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })');
    expect(storage).not.toMatch(/token|session|bearer/i);
    const cookies = await context.cookies();
    expect(cookies.find((cookie) => cookie.name === 'sb_session')?.httpOnly).toBe(true);

    // Online.
    await page.getByTestId('presence').getByText('Online', { exact: true }).click();
    await waitFor(
      async () => {
        const me = await fetch(`${app.url}/api/v1/routing/presence`, { headers: await app.authHeaders({ roles: ['admin'] }) }).then(
          (r) => r.json() as Promise<unknown>,
        );
        const list = Array.isArray(me) ? me : ((me as { items?: unknown[] }).items ?? []);
        return (list as Array<{ status: string; displayName?: string; agentId: string }>).some((agent) => agent.status === 'online');
      },
      10_000,
      'agent online',
    );

    // Team queue: shows the conversation whether or not routing assigned it to this agent.
    await page.getByRole('tab', { name: 'Team' }).click();
    await page.evaluate('window.__noReload = true');

    visitor = await Visitor.connect(app, inboxId, 'visitor-xss-1');
    visitor.send(XSS_TEXT, 'm1');
    const { conversationId } = await visitor.ack('m1');
    const conversation = await api<{ contactId: string }>(app, `/api/v1/conversations/${conversationId}`);
    await api(app, `/api/v1/contacts/${conversation.contactId}`, { method: 'PATCH', body: { name: XSS_NAME } });

    // Live: the conversation appears without a reload.
    const item = page.getByTestId('conversation-item').first();
    await item.waitFor({ timeout: 15_000 });
    expect(await page.evaluate('window.__noReload')).toBe(true);
    await item.click();
    await page.waitForURL(new RegExp(`/inbox/${conversationId}`));

    // XSS payloads render as text.
    const text = page.getByTestId('message-text').first();
    await text.waitFor();
    expect(await text.textContent()).toContain('<script>window.__xss=2</script>');
    await waitFor(async () => (await page.getByTestId('contact-name').textContent())?.includes('onerror'), 10_000, 'contact name');
    expect(await page.getByTestId('contact-name').textContent()).toBe(XSS_NAME);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();

    // A second visitor message arrives live in the open conversation.
    visitor.send('还在吗？ are you there?', 'm2');
    await page.getByText('还在吗？ are you there?').waitFor({ timeout: 10_000 });

    // Resume: the server drops the agent's socket (as on a restart); a message sent meanwhile
    // arrives once the console has reconnected and resubscribed from its last seq.
    for (const session of app.app.get(RealtimeHub).sessions) if (!session.isVisitor) session.close(1001, 'test: going away');
    visitor.send('断线期间的消息 sent while reconnecting', 'm3');
    await visitor.ack('m3');
    await page.getByText('断线期间的消息 sent while reconnecting').waitFor({ timeout: 20_000 });
    expect(await page.evaluate('window.__noReload')).toBe(true);

    // The agent uses a suggested reply from the assist panel and sends it.
    await page.getByTestId('use-suggestion').first().click();
    await waitFor(async () => (await page.getByTestId('composer').inputValue()).includes('restart the router'), 10_000, 'suggestion in composer');
    await page.getByTestId('send').click();
    await waitFor(
      () => visitor!.received().find((message) => message.authorType === 'agent' && message.text.includes('restart the router')),
      10_000,
      'visitor receives the reply',
    );

    // Slash menu: canned responses by shortcut.
    await page.getByTestId('composer').fill('/rout');
    await page.getByTestId('slash-menu').waitFor();
    await page.getByTestId('composer').press('Escape');

    // Attachments: the agent picks a file (drag & drop feeds the same upload), it uploads into a
    // chip, goes out with the reply and shows in the timeline as a download link with its size.
    const LOG = Buffer.from('uptime 3d\nwan: down\n');
    await page.getByTestId('attach-file-input').setInputFiles({ name: 'router-<img src=x onerror=alert(1)>.txt', mimeType: 'text/plain', buffer: LOG });
    const chip = page.getByTestId('attachment-chip').filter({ hasText: 'router-_img' });
    await chip.waitFor({ timeout: 10_000 });
    expect(await chip.textContent()).toContain('router-_img src=x onerror=alert(1)_.txt (20 B)');
    await page.getByTestId('composer').fill('Log attached');
    await page.getByTestId('send').click();
    const link = page.getByTestId('attachment-link').filter({ hasText: 'router-_img' });
    await link.waitFor({ timeout: 10_000 });
    expect(await link.textContent()).toBe('router-_img src=x onerror=alert(1)_.txt');
    expect(await page.getByTestId('message-attachment').filter({ hasText: 'router-_img' }).textContent()).toContain('(20 B)');
    const href = (await link.getAttribute('href')) ?? '';
    expect(href).toMatch(/^\/api\/v1\/attachments\/[0-9a-f-]{36}\/content$/);
    expect(await page.evaluate(`fetch(${JSON.stringify(href)}).then((r) => r.text())`)).toBe(LOG.toString());
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await page.getByTestId('attachment-chip').first().waitFor({ state: 'detached' });

    // Resolve: the status changes and the CSAT request reaches the visitor.
    await page.getByTestId('resolve').click();
    await waitFor(async () => (await api<{ status: string }>(app, `/api/v1/conversations/${conversationId}`)).status === 'resolved', 10_000, 'resolved');
    await waitFor(() => visitor!.received().find((message) => message.authorType !== 'agent' && message.content?.type === 'buttons'), 15_000, 'CSAT request');
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);

  it('a supervisor sees the dashboards with non-empty charts and can export CSV', async () => {
    const { context, page } = await ssoLogin(app, browser, SUPERVISOR);
    // The resolution reaches analytics through the normal event flow.
    await waitFor(
      async () => {
        const report = await fetch(
          `${app.url}/api/v1/analytics/report?from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}&groupBy=day`,
          {
            headers: await app.authHeaders({ roles: ['admin'] }),
          },
        ).then((r) => r.json() as Promise<{ totals: { conversationsCreated: number; conversationsResolved: number } }>);
        return report.totals.conversationsResolved >= 1;
      },
      20_000,
      'analytics facts',
    );
    await page.goto(`${app.url}/analytics`);
    await page.getByTestId('analytics-chart').first().waitFor();
    expect(await page.getByTestId('analytics-chart').count()).toBeGreaterThanOrEqual(6);
    // Non-empty: the KPI cards show the conversation, and the chart canvases are drawn.
    await page.getByText('Volume').first().waitFor();
    await waitFor(async () => (await page.locator('.ant-statistic-content-value').first().textContent())?.trim() !== '0', 10_000, 'volume KPI');
    // Browser-side code as a string: the core's tsconfig has no DOM types.
    const drawn = await page.evaluate<number>(`Array.from(document.querySelectorAll('[data-testid="analytics-chart"] canvas')).filter((c) => {
      const pixels = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
      return Boolean(pixels && pixels.some((value, index) => index % 4 === 3 && value > 0));
    }).length`);
    expect(drawn).toBeGreaterThanOrEqual(6);
    for (const dimension of ['Team', 'Agent', 'Channel']) {
      await page.getByTestId('group-by').getByText(dimension, { exact: true }).click();
      await page.getByTestId('analytics-chart').first().waitFor();
    }
    const href = await page.getByTestId('csv').getAttribute('href');
    const csv = await page.evaluate<string>(`fetch(${JSON.stringify(href)}).then((r) => r.text())`);
    expect(csv.split('\n')[0]).toContain('conversationsCreated');
    // Role-based navigation: no Admin for a supervisor.
    expect(await page.getByRole('menuitem', { name: /Admin/ }).count()).toBe(0);
    await context.close();
  }, 90_000);

  it('an admin (local login) configures a channel plugin through its JSON Schema form; secrets stay write-only; the test button answers', async () => {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${app.url}/admin/channels`);
    await page.getByTestId('username').fill('admin');
    await page.getByTestId('password').fill(ADMIN_PASSWORD);
    await page.getByTestId('local-login').click();
    await page.getByTestId('plugins-table').waitFor({ timeout: 15_000 });
    await page.getByTestId('configure-api').click();
    const form = page.getByTestId('schema-form');
    await form.waitFor();
    await page.getByTestId('instance-id').fill('support-api');
    await page.getByTestId('instance-inbox').click();
    await page.keyboard.type('Website');
    await page.locator('.ant-select-item-option-active').filter({ hasText: 'Website chat' }).waitFor();
    await page.keyboard.press('Enter');
    await waitFor(async () => (await page.getByTestId('instance-inbox').textContent())?.includes('Website chat'), 10_000, 'inbox selected');
    await page.getByTestId('field-secret').fill('s3cret-s3cret-s3cret-1234');
    await page.getByTestId('field-webhookUrl').fill('https://crm.example.test/hooks/switchboard');
    await page.getByTestId('plugin-save').click();
    const instance = await waitFor(
      async () => {
        const list = await api<{ items: Array<{ id: string; config: Record<string, unknown> }> }>(app, '/api/v1/plugins/instances');
        return list.items.find((candidate) => candidate.id === 'support-api');
      },
      15_000,
      'plugin instance',
    );
    expect(instance.config.secret).toBe('********');
    expect(instance.config.webhookUrl).toBe('https://crm.example.test/hooks/switchboard');
    // The secret field is never filled back in.
    await waitFor(async () => (await page.getByTestId('field-secret').inputValue()) === '', 10_000, 'secret field emptied');
    await page.getByTestId('plugin-test').click();
    await page.getByTestId('plugin-test-result').waitFor({ timeout: 30_000 });
    await page.keyboard.press('Escape');
    await page.getByTestId('instances-table').getByText('support-api').waitFor();
    // Language switch: the whole console in Chinese.
    await page.keyboard.press('Alt+L');
    await page.getByRole('menuitem', { name: /管理/ }).waitFor();
    await context.close();
  }, 90_000);

  it('an admin edits the knowledge base (variants, publish, list, version history with diff; XSS in an answer is sanitised) and a bot flow (inline validation errors, preview, dry run, save)', async () => {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${app.url}/knowledge`);
    await page.getByTestId('username').fill('admin');
    await page.getByTestId('password').fill(ADMIN_PASSWORD);
    await page.getByTestId('local-login').click();
    await page.getByTestId('kb-table').waitFor({ timeout: 15_000 });

    // A new entry with a question variant and a rich-text answer carrying XSS payloads.
    await page.getByTestId('kb-new').click();
    await page.getByTestId('kb-variant-0').fill('How do I reset the modem?');
    await page.getByTestId('kb-add-variant').click();
    await page.getByTestId('kb-variant-1').fill('modem factory reset steps');
    const answer =
      '<p>Hold the reset button for <strong>10 seconds</strong>.</p><img src=x onerror="window.__xss=4"><script>window.__xss=5</script><a href="javascript:window.__xss=6">more</a>';
    await page.getByTestId('kb-answer').fill(answer);
    const live = page.getByTestId('kb-live-preview');
    await live.locator('strong').getByText('10 seconds').waitFor();
    expect(await live.innerHTML()).not.toMatch(/<img|<script|onerror|javascript:/i);
    await page.getByTestId('kb-save').click();
    await page.getByTestId('kb-drawer-status').getByText('Draft').waitFor({ timeout: 10_000 });
    const created = await waitFor(
      async () =>
        (await api<{ items: Array<{ id: string; answer: string; questions: string[]; status: string }> }>(app, '/api/v1/knowledge/entries?q=modem')).items[0],
      10_000,
      'entry created',
    );
    expect(created.questions).toEqual(['How do I reset the modem?', 'modem factory reset steps']);
    expect(created.answer).not.toMatch(/<img|<script|onerror|javascript:/i);

    // Publish; then the entry is answerable.
    await page.getByTestId('kb-publish').click();
    await page.getByTestId('kb-drawer-status').getByText('Published').waitFor({ timeout: 10_000 });
    await waitFor(
      async () =>
        (await api<{ items: Array<{ entryId: string }> }>(app, `/api/v1/knowledge/search?q=${encodeURIComponent('reset the modem')}`)).items[0]?.entryId ===
        created.id,
      10_000,
      'published entry searchable',
    );

    // An edit makes version 2 with unpublished changes; the history shows the author and the diff.
    await page.getByTestId('kb-answer').fill('<p>Hold the reset button for <strong>15 seconds</strong>.</p>');
    await page.getByTestId('kb-save').click();
    await page.getByTestId('kb-drawer-status').getByText('unpublished changes').waitFor({ timeout: 10_000 });
    await page.getByRole('tab', { name: 'Version history' }).click();
    await page.getByTestId('kb-version-2').waitFor();
    await page.getByTestId('kb-version-1').waitFor();
    expect(await page.getByTestId('kb-version-2').getByTestId('kb-version-author').textContent()).toContain('admin');
    const diff = page.getByTestId('kb-diff');
    await diff.getByText('+ answer: Hold the reset button for 15 seconds.').waitFor();
    await diff.getByText('- answer: Hold the reset button for 10 seconds.').waitFor();
    // The preview renders the stored answer sanitised.
    await page.getByRole('tab', { name: 'Preview' }).click();
    await page.getByTestId('kb-preview-answer').locator('strong').getByText('15 seconds').waitFor();
    await page.keyboard.press('Escape');

    // The list shows it; the search finds it.
    await page.getByTestId('kb-search').locator('input').fill('modem');
    await page.getByTestId('kb-search').locator('input').press('Enter');
    await page.getByTestId('kb-table').getByText('How do I reset the modem?').waitFor();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();

    // Bot flow editor: an existing flow, an invalid edit shows the server's errors inline, a valid one is saved.
    const flowYaml = [
      'name: e2e_order',
      'trigger: { phrases: ["where is my order"] }',
      'steps:',
      '  - id: ask_order',
      '    type: ask',
      '    slot: order_number',
      '    entity: order_number',
      '    prompt: { en: "What is your order number?", zh: "请提供订单号" }',
      '  - id: done',
      '    type: reply',
      '    text: { en: "Thanks, {{slots.order_number}} noted." }',
      '    end: true',
      '',
    ].join('\n');
    await api(app, '/api/v1/bot/flows', { method: 'POST', body: { format: 'yaml', source: flowYaml, activate: true } });
    await page.goto(`${app.url}/bot`);
    await page.getByRole('tab', { name: 'Flows' }).click();
    await page.getByTestId('flow-edit-e2e_order').click();
    const source = page.getByTestId('flow-source');
    await source.waitFor();
    await page.getByTestId('flow-preview').getByText('ask_order').waitFor({ timeout: 10_000 });
    // A step type that does not exist: the error names the step and marks its line.
    await source.fill(flowYaml.replace('    type: reply', '    type: respond'));
    const problems = page.getByTestId('flow-problems');
    await problems.getByText(/steps\[1\]\.type must be one of/).waitFor({ timeout: 10_000 });
    await problems.getByText('line 10:11').waitFor();
    expect(await page.getByTestId('flow-error-line').first().textContent()).toContain('10');
    // Broken YAML syntax.
    await source.fill(flowYaml.replace('steps:', 'steps: [').replace('  - id: ask_order', '  - id: ask_order]]'));
    await problems.getByText(/YAML:/).waitFor({ timeout: 10_000 });
    // A valid edit: the preview follows, a dry run answers, and it is saved as version 2 and made live.
    await source.fill(flowYaml.replace('What is your order number?', 'Your order number, please?'));
    await page.getByTestId('flow-validity').getByText('valid', { exact: true }).waitFor({ timeout: 10_000 });
    await page.getByTestId('flow-preview').getByText('Your order number, please?').waitFor();
    await page.getByRole('tab', { name: 'Dry run' }).click();
    await page.getByTestId('dry-run-messages').fill('where is my order\nSO-20240001');
    await page.getByTestId('dry-run-start').click();
    await page.getByTestId('dry-run-transcript').getByText('Thanks, SO-20240001 noted.').waitFor({ timeout: 10_000 });
    await page.getByTestId('flow-save').click();
    const saved = await waitFor(
      async () => {
        const flow = await api<{ version: number; status: string; source: string }>(app, '/api/v1/bot/flows/e2e_order');
        return flow.version === 2 ? flow : undefined;
      },
      10_000,
      'flow version 2',
    );
    expect(saved.status).toBe('active');
    expect(saved.source).toContain('Your order number, please?');

    // Per-inbox settings: a greeting in both languages is saved.
    await page.getByRole('tab', { name: 'Inbox settings' }).click();
    await page.getByTestId('bot-settings').waitFor();
    await page.getByTestId('bot-greeting-en').fill('Hello from the e2e bot');
    await page.getByTestId('bot-greeting-zh').fill('你好，我是测试机器人');
    await page.getByTestId('bot-settings-save').click();
    await waitFor(
      async () => {
        const view = await api<{ configured: boolean; config: { greeting: Record<string, string>; enabled: boolean } }>(
          app,
          `/api/v1/bot/inboxes/${inboxId}/config`,
        );
        return view.configured && view.config.greeting.en === 'Hello from the e2e bot' && view.config.greeting.zh === '你好，我是测试机器人';
      },
      10_000,
      'bot config saved',
    );
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
