import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestCore, type TestCore } from '@switchboard/plugin-sdk/testing';

const PLUGIN_DIR = fileURLToPath(new URL('..', import.meta.url));
const SITE_SECRET = 'site-secret-0123456789abcdef';
const ADMIN = { roles: ['admin' as const], sub: 'webchat-test-admin' };
const AGENT = { roles: ['agent' as const], teamIds: ['support-en'], sub: 'webchat-test-agent', name: 'Agent' };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('web chat widget, end to end in Chromium', () => {
  let core: TestCore;
  let inboxId: string;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build-widget.mjs', import.meta.url))]);
    core = await startTestCore({ plugins: [PLUGIN_DIR], env: { SWITCHBOARD_WS_ALLOWED_ORIGINS: '*' } });
    inboxId = (await core.createInbox({ name: 'Website', channel: 'webchat' })).id;
    await core.addInstance('webchat', { id: 'web', inboxId, config: { siteSecret: SITE_SECRET } });
    // The customer's website, on another origin than the core.
    site = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://site');
      const user = url.searchParams.get('user');
      const hash = url.searchParams.get('hash');
      const identity = user ? ` data-user-id="${user}" data-user-hash="${hash}" data-user-name="${user}"` : '';
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>` +
            `<script src="${core.url}/plugins/webchat/widget.js" data-inbox="${url.searchParams.get('inbox') ?? inboxId}" data-locale="${url.searchParams.get('lang') ?? 'en-US'}"${identity}></script></body></html>`,
        );
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await core?.close();
    await new Promise((resolve) => site?.close(resolve));
  });

  const say = async (page: Page, text: string) => {
    await page.locator('textarea[name="message"]').fill(text);
    await page.locator('textarea[name="message"]').press('Enter');
  };
  const open = async (page: Page, query = '') => {
    await page.goto(`${siteUrl}/${query}`);
    await page.locator('button.bubble').click();
  };
  const conversationOf = (text: string) =>
    core.waitFor(
      async () => {
        for (const conversation of await core.conversations(inboxId)) {
          if ((await core.messages(conversation.id)).some((m) => m.text === text)) return conversation;
        }
        return undefined;
      },
      15_000,
      `the conversation holding "${text}"`,
    );

  it('offline: with nobody online the widget shows the offline form, and the message becomes a ticket', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await open(page);
    const form = page.locator('form.offline');
    await form.waitFor({ timeout: 15_000 });
    expect(await page.locator('form.composer').isHidden()).toBe(true);
    expect(await page.locator('.notice').textContent()).toMatch(/offline/);

    // The email address is required from an anonymous visitor.
    await form.locator('textarea[name="offline-message"]').fill('My parcel never arrived, order 7731');
    await form.locator('button').click();
    await page.locator('.error', { hasText: 'Email' }).waitFor({ timeout: 5_000 });
    await form.locator('input[name="name"]').fill('Wang Fang');
    await form.locator('input[name="email"]').fill('wang.fang@example.com');
    await form.locator('button').click();
    const thanks = page.locator('.notice', { hasText: 'Thanks' });
    await thanks.waitFor({ timeout: 15_000 });
    const number = /T-\d+/.exec((await thanks.textContent()) ?? '')?.[0];
    expect(number).toBeDefined();

    const conversation = await conversationOf('My parcel never arrived, order 7731');
    const ticket = (await core.request('GET', `/api/v1/tickets/${number}`, { as: ADMIN })).json;
    expect(ticket).toMatchObject({ type: 'question', status: 'new', requesterContactId: conversation.contactId, tags: ['webchat-offline'] });
    expect(ticket.subject).toBe('Web chat (offline): My parcel never arrived, order 7731');
    expect(ticket.description).toContain('wang.fang@example.com');
    expect(ticket.links).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'conversation', refId: conversation.id })]));
    const contact = (await core.request('GET', `/api/v1/contacts/${conversation.contactId}`, { as: ADMIN })).json;
    expect(contact.emails).toEqual([expect.objectContaining({ value: 'wang.fang@example.com', verified: false })]);

    // An agent's answer on the conversation still reaches the widget.
    await core.reply(conversation.id, 'Sorry about that, we are on it');
    await page.locator('li.out span', { hasText: 'we are on it' }).waitFor({ timeout: 15_000 });
    await context.close();
  });

  it('offline API: the email is required, and a repeated submission returns the same ticket', async () => {
    const session = (await core.request('POST', `/plugins/webchat/${inboxId}/session`, { body: {} })).json;
    expect(session.online).toBe(false);
    const auth = { authorization: `Bearer ${session.sessionToken}` };
    const noEmail = await core.request('POST', `/plugins/webchat/${inboxId}/offline`, { headers: auth, body: { clientMessageId: 'o1', text: 'hello?' } });
    expect([noEmail.status, noEmail.json.error.code]).toEqual([400, 'email_required']);
    const badEmail = await core.request('POST', `/plugins/webchat/${inboxId}/offline`, {
      headers: auth,
      body: { clientMessageId: 'o1', text: 'hello?', email: 'not-an-email' },
    });
    expect([badEmail.status, badEmail.json.error.code]).toEqual([400, 'invalid_email']);
    const body = { clientMessageId: 'o2', text: '请回电话', email: 'li@example.com' };
    const first = await core.request('POST', `/plugins/webchat/${inboxId}/offline`, { headers: auth, body });
    const again = await core.request('POST', `/plugins/webchat/${inboxId}/offline`, { headers: auth, body });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.json).toMatchObject({ ticketNumber: first.json.ticketNumber, conversationId: first.json.conversationId, duplicate: true });
    expect((await core.messages(first.json.conversationId)).filter((m) => m.text === '请回电话')).toHaveLength(1);
    const forged = await core.request('POST', `/plugins/webchat/${inboxId}/offline`, { headers: { authorization: 'Bearer x.y' }, body });
    expect(forged.status).toBe(401);
  });

  describe('with an agent online', () => {
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    beforeAll(async () => {
      const online = await core.request('PUT', '/api/v1/routing/presence/me', { as: AGENT, body: { status: 'online' } });
      expect([online.status, online.json.status]).toEqual([200, 'online']);
      // Keep the presence alive for the rest of the file (the missed-heartbeat timeout is 60 s).
      heartbeat = setInterval(() => void core.request('POST', '/api/v1/routing/presence/me/heartbeat', { as: AGENT }).catch(() => undefined), 10_000);
    });
    afterAll(() => clearInterval(heartbeat));

    it('is live chat on a team-less inbox, and still offline on an inbox whose team has nobody online', async () => {
      const page = await (await browser.newContext()).newPage();
      await open(page);
      await page.locator('form.composer').waitFor({ state: 'visible', timeout: 15_000 });
      expect(await page.locator('form.offline').isHidden()).toBe(true);
      expect(await page.locator('.notice').isHidden()).toBe(true);
      await page.context().close();

      expect((await core.request('POST', `/plugins/webchat/${inboxId}/session`, { body: {} })).json.online).toBe(true);
      const chinaDesk = (await core.createInbox({ name: 'Website (zh)', channel: 'webchat', teamId: 'support-cn' })).id;
      await core.addInstance('webchat', { id: 'web-cn', inboxId: chinaDesk, config: { siteSecret: SITE_SECRET } });
      expect((await core.request('POST', `/plugins/webchat/${chinaDesk}/session`, { body: {} })).json.online).toBe(false);
      const englishDesk = (await core.createInbox({ name: 'Website (en)', channel: 'webchat', teamId: 'support-en' })).id;
      await core.addInstance('webchat', { id: 'web-en', inboxId: englishDesk, config: { siteSecret: SITE_SECRET } });
      expect((await core.request('POST', `/plugins/webchat/${englishDesk}/session`, { body: {} })).json.online).toBe(true);
    });

    it('stores a visitor message, shows the agent reply, and keeps the history after a reload', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await open(page);
      await say(page, 'Hello from the widget');
      const conversation = await conversationOf('Hello from the widget');

      await core.reply(conversation.id, 'Hi! How can I help?');
      await expect(page.locator('li.out span', { hasText: 'How can I help?' })).toBeDefined();
      await page.locator('li.out span', { hasText: 'How can I help?' }).waitFor({ timeout: 15_000 });

      // An agent's file: the visitor opens it from the chat as a download (fetched with the session token).
      const agent = await core.authHeaders({ roles: ['admin'] });
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('Invoice 1042: paid')], { type: 'text/plain' }), 'invoice-1042.txt');
      const uploaded = await fetch(`${core.url}/api/v1/conversations/${conversation.id}/attachments`, { method: 'POST', headers: agent, body: form });
      expect(uploaded.status).toBe(201);
      const { id: fileId } = (await uploaded.json()) as { id: string };
      const sent = await core.request('POST', `/api/v1/conversations/${conversation.id}/messages`, {
        as: { roles: ['admin'] },
        body: { text: 'Here is your invoice', attachments: [{ id: fileId }] },
      });
      expect(sent.status).toBe(201);
      const fileButton = page.locator('li.out button.file', { hasText: 'invoice-1042.txt' });
      await fileButton.waitFor({ timeout: 15_000 });
      const [download] = await Promise.all([page.waitForEvent('download'), fileButton.click()]);
      expect(download.suggestedFilename()).toBe('invoice-1042.txt');
      expect(readFileSync((await download.path())!, 'utf8')).toBe('Invoice 1042: paid');

      await core.reply(conversation.id, 'internal note', { private: true });

      await page.reload();
      await page.locator('button.bubble').click();
      await page.locator('li.in span', { hasText: 'Hello from the widget' }).waitFor({ timeout: 15_000 });
      await page.locator('li.out span', { hasText: 'How can I help?' }).waitFor({ timeout: 15_000 });
      await say(page, 'Still here after reload');
      expect((await conversationOf('Still here after reload')).id).toBe(conversation.id);
      expect(await page.locator('li span', { hasText: 'internal note' }).count()).toBe(0);

      // The widget speaks Chinese too.
      const zh = await context.newPage();
      await zh.goto(`${siteUrl}/?lang=zh-CN`);
      await zh.locator('button.bubble').click();
      expect(await zh.locator('textarea[name="message"]').getAttribute('placeholder')).toBe('请输入消息…');
      await context.close();
    });

    it('resumes after a dropped connection with nothing lost: replies sent while it was down arrive once, in order', async () => {
      const context = await browser.newContext();
      // Record the widget's sockets, and let the test cut them and keep new ones from connecting.
      await context.addInitScript(() => {
        const w = window as unknown as { __sockets: WebSocket[]; __blockSockets: boolean; WebSocket: typeof WebSocket };
        const Native = w.WebSocket;
        w.__sockets = [];
        w.__blockSockets = false;
        w.WebSocket = class extends Native {
          constructor(url: string | URL, protocols?: string | string[]) {
            super(w.__blockSockets ? 'ws://127.0.0.1:9/' : url, protocols);
            w.__sockets.push(this);
          }
        };
      });
      const page = await context.newPage();
      await open(page);
      await say(page, 'Before the connection drops');
      const conversation = await conversationOf('Before the connection drops');
      await core.reply(conversation.id, 'Reply while connected');
      await page.locator('li.out span', { hasText: 'Reply while connected' }).waitFor({ timeout: 15_000 });

      await page.evaluate(() => {
        const w = window as unknown as { __sockets: WebSocket[]; __blockSockets: boolean };
        w.__blockSockets = true;
        for (const socket of w.__sockets) socket.close();
      });
      await core.waitFor(
        () => page.evaluate(() => (window as unknown as { __sockets: WebSocket[] }).__sockets.every((socket) => socket.readyState === WebSocket.CLOSED)),
        5_000,
        'the widget to be disconnected',
      );
      await core.reply(conversation.id, 'Missed reply one');
      await core.reply(conversation.id, 'Missed reply two');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await page.locator('li.out span', { hasText: 'Missed reply' }).count()).toBe(0);

      // The network comes back: the widget reconnects and resumes from the last seq it saw.
      await page.evaluate(() => {
        (window as unknown as { __blockSockets: boolean }).__blockSockets = false;
      });
      await page.locator('li.out span', { hasText: 'Missed reply two' }).waitFor({ timeout: 20_000 });
      const shown = await page.locator('li span').allTextContents();
      expect(shown.filter((text) => text.includes('Missed reply one'))).toHaveLength(1);
      expect(shown.filter((text) => text.includes('Missed reply two'))).toHaveLength(1);
      expect(shown.filter((text) => text.includes('Reply while connected'))).toHaveLength(1);
      expect(shown.findIndex((text) => text.includes('Missed reply one'))).toBeLessThan(shown.findIndex((text) => text.includes('Missed reply two')));
      // Live again: a new reply arrives without a reload.
      await core.reply(conversation.id, 'Live after the reconnect');
      await page.locator('li.out span', { hasText: 'Live after the reconnect' }).waitFor({ timeout: 15_000 });
      await context.close();
    });

    it('asks the configured pre-chat questions before the first message and stores the answers with it', async () => {
      const formInbox = (await core.createInbox({ name: 'Website (pre-chat form)', channel: 'webchat' })).id;
      await core.addInstance('webchat', {
        id: 'web-form',
        inboxId: formInbox,
        config: {
          siteSecret: SITE_SECRET,
          preChatForm: {
            enabled: true,
            fields: [{ name: 'name', required: true }, { name: 'orderNumber' }, { name: 'phone' }],
          },
        },
      });
      const context = await browser.newContext();
      const page = await context.newPage();
      await open(page, `?inbox=${formInbox}`);
      const form = page.locator('form.pre:not(.offline)');
      await form.waitFor({ state: 'visible', timeout: 15_000 });
      expect(await page.locator('form.composer').isHidden()).toBe(true);
      expect(await form.locator('input').evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).name))).toEqual([
        'name',
        'orderNumber',
        'phone',
      ]);

      // A required field left empty keeps the form up (the browser's own validation stops the submit).
      await form.locator('button').click();
      expect(await form.locator('input[name="name"]').evaluate((input) => (input as HTMLInputElement).validity.valueMissing)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await page.locator('form.composer').isHidden()).toBe(true);
      expect(await form.isVisible()).toBe(true);

      await form.locator('input[name="name"]').fill('Zhang Wei');
      await form.locator('input[name="orderNumber"]').fill('7731');
      await form.locator('button').click();
      await page.locator('form.composer').waitFor({ state: 'visible', timeout: 5_000 });
      await say(page, 'Where is my parcel?');
      const conversation = await core.waitFor(async () => (await core.conversations(formInbox))[0], 15_000, 'the pre-chat conversation');
      const [first] = await core.messages(conversation.id);
      expect(first!.text).toBe('name: Zhang Wei\norderNumber: 7731\n\nWhere is my parcel?');
      const contact = (await core.request('GET', `/api/v1/contacts/${conversation.contactId}`, { as: ADMIN })).json;
      expect(contact.name).toBe('Zhang Wei');

      // Only the first message carries the answers, and the form is not asked again after a reload.
      await page.locator('li.in', { hasText: 'Where is my parcel?' }).waitFor({ timeout: 15_000 });
      await say(page, 'Any news?');
      await core.waitFor(async () => (await core.messages(conversation.id)).some((m) => m.text === 'Any news?'), 15_000, 'the second message');
      await page.reload();
      await page.locator('button.bubble').click();
      await page.locator('li.in span', { hasText: 'Any news?' }).waitFor({ timeout: 15_000 });
      expect(await page.locator('form.pre:not(.offline)').isHidden()).toBe(true);
      expect(await page.locator('form.composer').isVisible()).toBe(true);
      await context.close();

      // The server keeps only the configured fields, trimmed and bounded.
      const session = (await core.request('POST', `/plugins/webchat/${formInbox}/session`, { body: {} })).json;
      expect(session.config.preChatForm).toEqual({
        enabled: true,
        fields: [
          { name: 'name', required: true },
          { name: 'orderNumber', required: false },
          { name: 'phone', required: false },
        ],
      });
      const sent = await core.request('POST', `/plugins/webchat/${formInbox}/messages`, {
        headers: { authorization: `Bearer ${session.sessionToken}` },
        body: {
          clientMessageId: 'pf1',
          text: 'hi',
          form: { name: '  Li  ', email: 'li@example.com', secretField: 'x'.repeat(50), orderNumber: 'A'.repeat(300) },
        },
      });
      expect(sent.status).toBe(201);
      const stored = (await core.messages(sent.json.conversationId)).find((m) => m.id === sent.json.messageId)!;
      expect(stored.text).toBe(`name: Li\norderNumber: ${'A'.repeat(200)}\n\nhi`);

      // A form field the plugin does not know is a config error, named as such.
      const invalid = await core.request('POST', '/api/v1/plugins/webchat/instances', {
        as: ADMIN,
        body: { inboxId: formInbox, config: { siteSecret: SITE_SECRET, preChatForm: { enabled: true, fields: [{ name: 'favouriteColour' }] } } },
      });
      expect([invalid.status, invalid.json.error.code]).toEqual([400, 'plugin_config_invalid']);
      expect(invalid.json.error.details.problems.join('\n')).toMatch(
        /config\.preChatForm\.fields\.0\.name must be one of "name", "email", "phone", "orderNumber"/,
      );
    });

    it('merges a verified user across devices, and never merges a spoofed identity without a valid HMAC', async () => {
      const hash = createHmac('sha256', SITE_SECRET).update('alice').digest('hex');
      const laptop = await browser.newContext();
      const alicePage = await laptop.newPage();
      await open(alicePage, `?user=alice&hash=${hash}`);
      await say(alicePage, 'I am Alice, order 1042');
      const alice = await conversationOf('I am Alice, order 1042');

      // Alice on her phone: same verified identity, same contact, sees her history.
      const phone = await browser.newContext();
      const phonePage = await phone.newPage();
      await open(phonePage, `?user=alice&hash=${hash}`);
      await phonePage.locator('li.in span', { hasText: 'I am Alice, order 1042' }).waitFor({ timeout: 15_000 });

      // Mallory claims to be Alice with a made-up hash.
      const mallory = await browser.newContext();
      const malloryPage = await mallory.newPage();
      await open(malloryPage, `?user=alice&hash=${'0'.repeat(64)}`);
      await say(malloryPage, 'I am Alice too (not really)');
      const spoofed = await conversationOf('I am Alice too (not really)');
      expect(spoofed.contactId).not.toBe(alice.contactId);
      expect(spoofed.id).not.toBe(alice.id);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await malloryPage.locator('li span', { hasText: 'order 1042' }).count()).toBe(0);
      await Promise.all([laptop.close(), phone.close(), mallory.close()]);
    });

    it('enforces attachment limits and serves a small widget', async () => {
      const widget = await core.request('GET', '/plugins/webchat/widget.js');
      expect(widget.status).toBe(200);
      expect(widget.headers['content-type']).toMatch(/javascript/);
      const { gzipSync } = await import('node:zlib');
      expect(gzipSync(widget.text).length).toBeLessThan(50 * 1024);

      const session = (await core.request('POST', `/plugins/webchat/${inboxId}/session`, { body: {} })).json;
      const auth = { authorization: `Bearer ${session.sessionToken}` };
      const exe = await core.request('POST', `/plugins/webchat/${inboxId}/messages`, {
        headers: auth,
        body: { clientMessageId: 'f1', text: 'see file', attachments: [{ filename: 'x.exe', contentType: 'application/x-msdownload', dataBase64: 'AAAA' }] },
      });
      expect([exe.status, exe.json.error.code]).toEqual([415, 'attachment_type_not_allowed']);
      const big = await core.request('POST', `/plugins/webchat/${inboxId}/messages`, {
        headers: auth,
        body: { clientMessageId: 'f2', text: 'big', attachments: [{ filename: 'a.png', contentType: 'image/png', dataBase64: 'A'.repeat(8 * 1024 * 1024) }] },
      });
      expect(big.status).toBe(413);
      const ok = await core.request('POST', `/plugins/webchat/${inboxId}/messages`, {
        headers: auth,
        body: {
          clientMessageId: 'f3',
          text: 'receipt',
          attachments: [{ filename: 'r.txt', contentType: 'text/plain', dataBase64: Buffer.from('paid').toString('base64') }],
        },
      });
      expect(ok.status).toBe(201);
      const stored = (await core.messages(ok.json.conversationId)).find((m) => m.text === 'receipt')!;
      expect(stored.attachments).toEqual([expect.objectContaining({ name: 'r.txt', contentType: 'text/plain', size: 4 })]);
      // Stored as a conversation attachment: the conversation's agents can download it.
      const [file] = stored.attachments as Array<{ id: string }>;
      const download = await core.request('GET', `/api/v1/attachments/${file!.id}/content`, { as: { roles: ['admin'] } });
      expect([download.status, download.text, download.headers['x-content-type-options']]).toEqual([200, 'paid', 'nosniff']);
      // The visitor opens their own file (as a download); another visitor cannot.
      const own = await core.request('GET', `/plugins/webchat/${inboxId}/attachments/${file!.id}`, { headers: auth });
      expect([own.status, own.text, own.headers['content-disposition'], own.headers['x-content-type-options']]).toEqual([
        200,
        'paid',
        `attachment; filename="r.txt"; filename*=UTF-8''r.txt`,
        'nosniff',
      ]);
      const stranger = (await core.request('POST', `/plugins/webchat/${inboxId}/session`, { body: {} })).json;
      await core.request('POST', `/plugins/webchat/${inboxId}/messages`, {
        headers: { authorization: `Bearer ${stranger.sessionToken}` },
        body: { clientMessageId: 's1', text: 'hello' },
      });
      const theirs = await core.request('GET', `/plugins/webchat/${inboxId}/attachments/${file!.id}`, {
        headers: { authorization: `Bearer ${stranger.sessionToken}` },
      });
      expect([theirs.status, theirs.json.error.code]).toEqual([404, 'attachment_not_found']);
      expect((await core.request('GET', `/plugins/webchat/${inboxId}/attachments/${file!.id}`)).status).toBe(401);
      // The bytes decide: HTML declared as text/plain is refused by the core.
      const disguised = await core.request('POST', `/plugins/webchat/${inboxId}/messages`, {
        headers: auth,
        body: {
          clientMessageId: 'f5',
          text: 'page',
          attachments: [{ filename: 'p.txt', contentType: 'text/plain', dataBase64: Buffer.from('<html><script>alert(1)</script>').toString('base64') }],
        },
      });
      expect([disguised.status, disguised.json.error.code]).toEqual([415, 'attachment_type_not_allowed']);
      expect(
        (
          await core.request('POST', `/plugins/webchat/${inboxId}/messages`, {
            headers: { authorization: 'Bearer forged.token' },
            body: { clientMessageId: 'f4', text: 'x' },
          })
        ).status,
      ).toBe(401);
    });
  });
});
