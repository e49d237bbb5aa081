/**
 * The email channel's IMAP polling against a real IMAP server (Dovecot on loopback): unseen mail is
 * fetched, stored and flagged \Seen; replies thread; auto-replies are dropped; the IMAP password is
 * a secret (encrypted at rest, masked for admins); the `test` action logs in; a lost server shows
 * in the instance's health.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ImapFlow } from 'imapflow';
import type { ParsedMail } from 'mailparser';
import type { DataSource } from 'typeorm';
import { startTestCore, type TestCore } from '@switchboard/plugin-sdk/testing';
import { DATA_SOURCE } from '../../../core/src/platform/database/database.tokens.js';
import { Dovecot, DOVECOT_BIN } from './support/dovecot.js';
import { conversationWith as conversationIn, startSmtpSink } from './support/mail.js';

const PASSWORD = 'imap-pass-7f3kQ9';
const ADMIN = { roles: ['admin' as const] };

const mail = (headers: Record<string, string>, body: string) =>
  `${Object.entries({ To: 'support@shop.example', Date: new Date().toUTCString(), ...headers })
    .map(([key, value]) => `${key}: ${value}`)
    .join('\r\n')}\r\n\r\n${body}\r\n`;

// A missing dovecot fails the run in CI (scripts/ensure-system-packages.sh installs it) and skips elsewhere.
const run = DOVECOT_BIN || process.env.CI === 'true' ? describe : describe.skip;

run('email channel over IMAP (Dovecot)', () => {
  let dovecot: Dovecot;
  let core: TestCore;
  let inboxId: string;
  let sink: Awaited<ReturnType<typeof startSmtpSink>> | undefined;
  let sinkPort: number;
  let outbox: ParsedMail[] = [];
  let imapConfig: Record<string, unknown>;

  const mailbox = async <T>(work: (client: ImapFlow) => Promise<T>): Promise<T> => {
    const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: 'support', pass: PASSWORD }, logger: false });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.logout().catch(() => undefined);
    }
  };
  const deliver = (raw: string, flags: string[] = []) => mailbox((client) => client.append('INBOX', raw, flags));
  const unseen = () =>
    mailbox(async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        return (await client.search({ seen: false }, { uid: true })) || [];
      } finally {
        lock.release();
      }
    });

  const conversationWith = (text: string) => conversationIn(core, inboxId, text, 20_000);

  beforeAll(async () => {
    dovecot = await Dovecot.start(PASSWORD);
    sink = await startSmtpSink();
    sinkPort = sink.port;
    outbox = sink.outbox;

    // Waiting before the instance exists: one unseen customer mail, one already read.
    await deliver(
      mail(
        { From: 'Chen Jing <chen.jing@customer.example>', Subject: 'Invoice missing', 'Message-ID': '<imap-1@customer.example>' },
        'Please resend invoice 88.',
      ),
    );
    await deliver(mail({ From: 'old@customer.example', Subject: 'Old', 'Message-ID': '<imap-0@customer.example>' }, 'Already read long ago.'), ['\\Seen']);

    core = await startTestCore({ plugins: [new URL('..', import.meta.url)] });
    inboxId = (await core.createInbox({ name: 'Support mail (IMAP)', channel: 'email' })).id;
    imapConfig = { host: '127.0.0.1', port: dovecot.port, secure: false, user: 'support', password: PASSWORD, pollSeconds: 5 };
    await core.addInstance('email', {
      id: 'mail-imap',
      inboxId,
      config: { address: 'support@shop.example', displayName: 'Shop Support', imap: imapConfig, outbound: { host: '127.0.0.1', port: sinkPort } },
      delivery: { maxAttempts: 3, backoffMs: [100] },
    });
  });

  afterAll(async () => {
    await core?.close();
    await sink?.close();
    await dovecot?.stop();
  });

  it('fetches unseen mail, marks it \\Seen, leaves read mail alone; the reply threads both ways', async () => {
    const { conversation, messages } = await conversationWith('Please resend invoice 88.');
    expect(messages.filter((m) => m.direction === 'in')).toHaveLength(1);
    await core.waitFor(async () => (await unseen()).length === 0, 10_000, 'the fetched mail to be flagged \\Seen');
    const all = (await Promise.all((await core.conversations(inboxId)).map((c) => core.messages(c.id)))).flat();
    expect(all.some((m) => m.text.includes('Already read long ago'))).toBe(false);

    await core.reply(conversation.id, 'Invoice 88 is on its way.');
    const reply = await core.waitFor(() => outbox.find((m) => m.text?.includes('Invoice 88 is on its way')), 15_000, 'the reply in the SMTP sink');
    expect(reply.subject).toBe('Re: Invoice missing');
    expect(reply.inReplyTo).toBe('<imap-1@customer.example>');

    // The customer's answer and an out-of-office arrive in the mailbox between two polls.
    await deliver(
      mail(
        {
          From: 'chen.jing@customer.example',
          Subject: 'Re: Invoice missing',
          'Message-ID': '<imap-2@customer.example>',
          'In-Reply-To': reply.messageId!,
          References: `<imap-1@customer.example> ${reply.messageId}`,
        },
        'Got it, thank you!',
      ),
    );
    await deliver(
      mail(
        { From: 'chen.jing@customer.example', Subject: 'Automatic reply', 'Auto-Submitted': 'auto-replied', 'In-Reply-To': reply.messageId! },
        'I am out of the office (auto-reply).',
      ),
    );
    const again = await conversationWith('Got it, thank you!');
    expect(again.conversation.id).toBe(conversation.id);
    await core.waitFor(async () => (await unseen()).length === 0, 10_000, 'both new mails to be flagged \\Seen');
    const after = (await Promise.all((await core.conversations(inboxId)).map((c) => core.messages(c.id)))).flat();
    expect(after.some((m) => m.text.includes('out of the office'))).toBe(false);
    expect(after.filter((m) => m.text.includes('Please resend invoice 88.'))).toHaveLength(1);
  });

  it('keeps the IMAP password secret, tests the login, and reports a lost server in health', async () => {
    const view = await core.instance('mail-imap');
    expect((view.config as { imap: Record<string, unknown> }).imap).toMatchObject({ user: 'support', password: '********' });
    const dataSource = core.app.get<DataSource>(DATA_SOURCE);
    const [row] = await dataSource.query('SELECT config FROM plugin_instances WHERE id = ?', ['mail-imap']);
    const stored = typeof row.config === 'string' ? row.config : JSON.stringify(row.config);
    expect(stored).not.toContain(PASSWORD);
    expect(JSON.parse(stored).imap.password.$secret).toMatch(/^v1:/);

    const ok = await core.request('POST', '/api/v1/plugins/instances/mail-imap/test', { as: ADMIN, body: {} });
    expect(ok.json).toEqual({ ok: true, detail: 'SMTP server accepted the connection' });
    const config = { address: 'support@shop.example', imap: { ...imapConfig, password: 'wrong-password' }, outbound: { host: '127.0.0.1', port: sinkPort } };
    const wrong = await core.request('POST', '/api/v1/plugins/instances/mail-imap/test', { as: ADMIN, body: { config } });
    expect(wrong.json.ok).toBe(false);
    expect(wrong.json.detail).toMatch(/auth|fail|invalid/i);

    await dovecot.stop();
    const health = await core.waitFor(
      async () => {
        const ready = await core.request('GET', '/health/ready');
        const component = ready.json?.components?.['plugin:mail-imap'];
        return component?.status === 'degraded' ? component : undefined;
      },
      15_000,
      'the instance to report the lost IMAP server',
    );
    expect(health.detail).toMatch(/^IMAP: /);
  });
});
