import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nodemailer from 'nodemailer';
import type { ParsedMail } from 'mailparser';
import { startTestCore, type TestCore } from '@switchboard/plugin-sdk/testing';
import { freePort } from '../../../core/test/harness/servers.mjs';
import { conversationWith as conversationIn, startSmtpSink } from './support/mail.js';

describe('email channel', () => {
  let core: TestCore;
  let inboxId: string;
  let listenPort: number;
  let sink: Awaited<ReturnType<typeof startSmtpSink>> | undefined;
  let outbox: ParsedMail[] = [];

  const customer = () => nodemailer.createTransport({ host: '127.0.0.1', port: listenPort, secure: false, ignoreTLS: true });

  beforeAll(async () => {
    // The outbound SMTP sink: a real smtp-server that keeps every mail.
    sink = await startSmtpSink();
    outbox = sink.outbox;
    const sinkPort = sink.port;
    listenPort = await freePort();

    core = await startTestCore({ plugins: [new URL('..', import.meta.url)] });
    inboxId = (await core.createInbox({ name: 'Support mail', channel: 'email' })).id;
    await core.addInstance('email', {
      id: 'mail',
      inboxId,
      config: {
        address: 'support@shop.example',
        displayName: 'Shop Support',
        listener: { host: '127.0.0.1', port: listenPort },
        outbound: { host: '127.0.0.1', port: sinkPort },
      },
      delivery: { maxAttempts: 3, backoffMs: [100] },
    });
  });

  afterAll(async () => {
    await core?.close();
    await sink?.close();
  });

  const conversationWith = (text: string) => conversationIn(core, inboxId, text);

  it('receives real mail over SMTP, sanitises HTML, stores attachments; the agent reply threads and carries the agent’s file; the customer reply joins the conversation', async () => {
    await customer().sendMail({
      from: 'Wang Fang <wang.fang@customer.example>',
      to: 'support@shop.example',
      subject: 'Broken kettle',
      messageId: '<first-1@customer.example>',
      text: 'My kettle stopped working. 水壶坏了。',
      html: '<p>My kettle <b>stopped</b> working.</p><script>alert("x")</script><img src="x" onerror="alert(1)"><a href="javascript:alert(2)" onclick="evil()">link</a>',
      attachments: [
        { filename: 'receipt.txt', content: 'order 1042' },
        // A Windows executable: the core's allow-list refuses it, and the message says so.
        { filename: 'setup.exe', content: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0)]), contentType: 'application/octet-stream' },
      ],
    });
    const { conversation, messages } = await conversationWith('My kettle stopped working');
    const first = messages.find((m) => m.direction === 'in')!;
    expect(first.text).toContain('水壶坏了');
    expect(first.attachments).toEqual([
      expect.objectContaining({ name: 'body.html', contentType: 'text/html' }),
      expect.objectContaining({ name: 'receipt.txt', contentType: 'text/plain', size: 10 }),
    ]);
    expect(first.text).toMatch(/\[Attachments not stored: setup\.exe \(attachment_type_(not_allowed|mismatch)\)\]$/);
    const stored = first.attachments as Array<{ id?: string; name: string; storageKey: string }>;
    const html = core.readAttachment(stored[0]!.storageKey).toString('utf8');
    expect(html).toContain('<b>stopped</b>');
    expect(html).not.toMatch(/script|onerror|onclick|javascript:|<img/i);
    // The customer's file is a conversation attachment (encrypted at rest by the core), downloadable by the agents.
    expect(stored[1]!.id).toEqual(expect.any(String));
    const download = await core.request('GET', `/api/v1/attachments/${stored[1]!.id}/content`, { as: { roles: ['admin'] } });
    expect([download.status, download.text]).toEqual([200, 'order 1042']);

    // The agent answers with a file of their own: it goes out as a MIME attachment.
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('Return label #55')], { type: 'text/plain' }), 'return-label.txt');
    const uploaded = await fetch(`${core.url}/api/v1/conversations/${conversation.id}/attachments`, {
      method: 'POST',
      headers: await core.authHeaders({ roles: ['admin'] }),
      body: form,
    });
    expect(uploaded.status).toBe(201);
    const { id: labelId } = (await uploaded.json()) as { id: string };
    const sent = await core.request('POST', `/api/v1/conversations/${conversation.id}/messages`, {
      as: { roles: ['admin'], sub: 'mail-agent', name: 'Agent' },
      body: { text: 'Sorry to hear that! We will send a new one.', attachments: [{ id: labelId }] },
    });
    expect(sent.status).toBe(201);
    const reply = await core.waitFor(() => outbox.find((mail) => mail.text?.includes('send a new one')), 15_000, 'the reply in the SMTP sink');
    expect(reply.attachments.map((file) => [file.filename, file.contentType, file.content.toString('utf8')])).toEqual([
      ['return-label.txt', 'text/plain', 'Return label #55'],
    ]);
    expect(reply.to && 'value' in reply.to ? reply.to.value[0]!.address : undefined).toBe('wang.fang@customer.example');
    expect(reply.from?.value[0]?.address).toBe('support@shop.example');
    expect(reply.subject).toBe('Re: Broken kettle');
    expect(reply.inReplyTo).toBe('<first-1@customer.example>');
    expect([reply.references].flat()).toContain('<first-1@customer.example>');

    // The customer answers our reply: In-Reply-To is our Message-ID.
    await customer().sendMail({
      from: 'wang.fang@customer.example',
      to: 'support@shop.example',
      subject: 'Re: Broken kettle',
      messageId: '<second-2@customer.example>',
      inReplyTo: reply.messageId,
      references: [reply.messageId!],
      text: 'Thanks, my address is unchanged.',
    });
    const again = await conversationWith('my address is unchanged');
    expect(again.conversation.id).toBe(conversation.id);
  });

  it('falls back to plain text from the HTML (no markup, nothing of scripts or styles) when a mail has no text part', async () => {
    await customer().sendMail({
      from: 'li.lei@customer.example',
      to: 'support@shop.example',
      subject: 'HTML only',
      messageId: '<html-only@customer.example>',
      html: '<div>Order <b>5521</b> &amp; invoice</div><p>arrived broken</p><script>steal()</script><img src=x onerror="alert(1)"><style>p{}</style>',
    });
    const { messages } = await conversationWith('arrived broken');
    const first = messages.find((m) => m.direction === 'in')!;
    // Plain text, one block per line, no markup and nothing from the script or style.
    expect(first.text).toMatch(/^Order 5521 & invoice\n+arrived broken\b/);
    expect(first.text).not.toMatch(/<|steal|alert|p\{\}/);
    const [body] = first.attachments as Array<{ name: string; storageKey: string }>;
    expect(body!.name).toBe('body.html');
    const html = core.readAttachment(body!.storageKey).toString('utf8');
    expect(html).toContain('<b>5521</b>');
    expect(html).not.toMatch(/script|steal|onerror|<img|<style/i);
  });

  it('keeps unrelated mail apart and drops auto-replies and bounces', async () => {
    await customer().sendMail({
      from: 'wang.fang@customer.example',
      to: 'support@shop.example',
      subject: 'Another question',
      messageId: '<other-3@customer.example>',
      text: 'Do you ship to Hangzhou?',
    });
    const { conversation } = await conversationWith('ship to Hangzhou');
    const kettle = await conversationWith('My kettle stopped working');
    expect(conversation.id).not.toBe(kettle.conversation.id);

    await customer().sendMail({
      from: 'wang.fang@customer.example',
      to: 'support@shop.example',
      subject: 'Out of office',
      headers: { 'Auto-Submitted': 'auto-replied' },
      inReplyTo: '<first-1@customer.example>',
      text: 'I am on holiday (auto-reply)',
    });
    await customer().sendMail({
      from: 'MAILER-DAEMON@customer.example',
      to: 'support@shop.example',
      subject: 'Undelivered Mail Returned to Sender',
      text: 'delivery failed (bounce)',
    });
    await customer().sendMail({
      from: 'news@list.example',
      to: 'support@shop.example',
      subject: 'Digest',
      headers: { Precedence: 'bulk' },
      text: 'weekly digest (bulk)',
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const all = (await Promise.all((await core.conversations(inboxId)).map((c) => core.messages(c.id)))).flat();
    expect(all.some((m) => /auto-reply|bounce|bulk/.test(m.text))).toBe(false);

    // Relaying for other domains is refused at RCPT TO.
    await expect(customer().sendMail({ from: 'a@b.example', to: 'victim@elsewhere.example', text: 'relay?' })).rejects.toThrow(/Relay denied|550/);
  });
});
