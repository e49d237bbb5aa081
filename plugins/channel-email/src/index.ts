/**
 * The email channel. Inbound through an SMTP listener (`listener`) and/or IMAP polling (`imap`),
 * MIME parsed by mailparser, HTML sanitised with an allow-list (a plain-text fallback is always
 * stored), the customer's files stored as conversation attachments (the agent's go out with replies). Messages thread into one conversation through
 * Message-ID / In-Reply-To / References; replies go out over SMTP (nodemailer) with the headers
 * that make them thread in the customer's mail client. Auto-replies and bounces are dropped.
 */
import { definePlugin, type AttachmentRef, type OutboundMessage, type PluginContext } from '@switchboard/plugin-sdk';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer, { type Transporter } from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { htmlToText, loopReason, referenceIds, replySubject, sanitizeEmailHtml, strip } from './mail.js';

export interface EmailConfig {
  address: string;
  displayName: string;
  listener?: { host: string; port: number; acceptDomains?: string[]; maxMessageBytes: number };
  imap?: { host: string; port: number; secure: boolean; user: string; password: string; mailbox: string; pollSeconds: number };
  outbound: { host: string; port: number; secure: boolean; requireTls: boolean; user?: string; password?: string };
  maxAttachmentBytes: number;
}

interface Thread {
  address: string;
  name: string | null;
  subject: string;
  threadKey: string;
  /** Message-ids of the thread so far, oldest first (capped). */
  references: string[];
}

type Ctx = PluginContext<EmailConfig>;

/**
 * A conversation that did not start by email (a proactive message, e.g. a device-fault notice):
 * start a thread to the contact's address. Replies thread back through the conversation's key.
 */
function newThread(message: OutboundMessage): Thread | null {
  const address = message.recipient?.email;
  if (!address) return null;
  const firstLine = message.text.split(/\r?\n/)[0]!.trim();
  const subject = firstLine.length > 78 ? `${firstLine.slice(0, 75).replace(/\s+\S*$/, '')}…` : firstLine || 'Message from support';
  return { address, name: message.recipient?.name ?? null, subject, threadKey: message.threadKey ?? `conv:${message.conversationId}`, references: [] };
}

let server: SMTPServer | undefined;
let transport: Transporter | undefined;
let imapTimer: number | undefined;
let lastError: string | null = null;
const stats = { received: 0, dropped: 0 };

const domainOf = (address: string) => address.split('@')[1]!.toLowerCase();

/** Handles one raw message from either source. Returns why it was dropped, if it was. */
export async function ingest(ctx: Ctx, raw: Buffer): Promise<string | null> {
  const mail: ParsedMail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  const loop = loopReason(mail);
  if (loop) {
    stats.dropped++;
    ctx.logger.info('mail dropped', { reason: loop });
    return loop;
  }
  const from = mail.from!.value[0]!;
  const address = from.address!.toLowerCase();
  const messageId = strip(mail.messageId) || `${Date.now()}.${Math.random().toString(36).slice(2)}@generated`;

  // Threading: any id this mail refers to that we already know names the thread.
  let threadKey: string | undefined;
  const refs = referenceIds(mail);
  for (const ref of [...refs].reverse()) {
    threadKey = await ctx.kv.get<string>(`msg:${ref}`);
    if (threadKey) break;
  }
  threadKey ??= refs[0] ?? messageId;

  const html = typeof mail.html === 'string' ? sanitizeEmailHtml(mail.html) : null;
  const text = (mail.text?.trim() || (typeof mail.html === 'string' ? htmlToText(mail.html) : '') || '(empty message)').slice(0, 60_000);

  const attachments: AttachmentRef[] = [];
  const skipped: string[] = [];
  // The conversations module's structured `content` is for bot widgets, so the sanitised HTML
  // body travels as an attachment (`body.html`, text/html) next to the plain-text message.
  if (html) {
    attachments.push(await ctx.storeAttachment({ filename: 'body.html', contentType: 'text/html', dataBase64: Buffer.from(html, 'utf8').toString('base64') }));
  }
  // The customer's files become conversation attachments: type detected from the bytes and checked
  // against the core's allow-list, encrypted at rest, downloadable by the conversation's agents. A file
  // the core refuses is left out, and the message says so.
  for (const attachment of mail.attachments ?? []) {
    const name = attachment.filename ?? 'attachment';
    if (attachment.size > ctx.config.maxAttachmentBytes) {
      skipped.push(`${name} (attachment_too_large)`);
      continue;
    }
    try {
      attachments.push(
        await ctx.uploadAttachment({
          filename: name,
          contentType: attachment.contentType || 'application/octet-stream',
          dataBase64: attachment.content.toString('base64'),
        }),
      );
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('attachment_')) throw error;
      skipped.push(`${name} (${code})`);
    }
  }

  if (skipped.length) ctx.logger.warn('attachments were not stored', { count: skipped.length });
  const note = skipped.length ? `\n\n[Attachments not stored: ${skipped.join(', ')}]` : '';
  const result = await ctx.inbound({
    externalContact: { externalId: address, verified: false, name: from.name || undefined, email: address },
    idempotencyKey: `mid:${messageId}`.slice(0, 150),
    externalMessageId: messageId.slice(0, 190),
    threadKey: `email:${threadKey}`.slice(0, 190),
    text: `${text}${note}`,
    attachments,
  });
  await ctx.kv.set(`msg:${messageId}`, threadKey, { ttlMs: 365 * 86_400_000 });
  const previous = await ctx.kv.get<Thread>(`conv:${result.conversationId}`);
  const thread: Thread = {
    address,
    name: from.name || null,
    subject: previous?.subject ?? mail.subject ?? '',
    threadKey,
    references: [...new Set([...(previous?.references ?? []), ...refs, messageId])].slice(-20),
  };
  await ctx.kv.set(`conv:${result.conversationId}`, thread);
  stats.received++;
  return null;
}

function startListener(ctx: Ctx): Promise<void> {
  const listener = ctx.config.listener!;
  const domains = (listener.acceptDomains?.length ? listener.acceptDomains : [domainOf(ctx.config.address)]).map((d) => d.toLowerCase());
  server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: listener.maxMessageBytes,
    banner: 'Switchboard',
    logger: false,
    onRcptTo(address, _session, callback) {
      const domain = address.address.split('@')[1]?.toLowerCase() ?? '';
      if (!domains.includes(domain)) return callback(Object.assign(new Error('Relay denied'), { responseCode: 550 }));
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(Object.assign(new Error('Message too large'), { responseCode: 552 }));
          return;
        }
        ingest(ctx, Buffer.concat(chunks)).then(
          () => callback(),
          (error: Error) => {
            lastError = error.message;
            ctx.logger.error('inbound mail failed', { reason: error.message });
            // Temporary failure: the sending server retries later.
            callback(Object.assign(new Error('Temporary failure, try again later'), { responseCode: 451 }));
          },
        );
      });
    },
  });
  server.on('error', (error) => {
    lastError = error.message;
    ctx.logger.error('SMTP listener error', { reason: error.message });
  });
  return new Promise((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(listener.port, listener.host, () => {
      ctx.logger.info('SMTP listener ready', { port: listener.port });
      resolve();
    });
  });
}

async function pollImap(ctx: Ctx): Promise<void> {
  const imap = ctx.config.imap!;
  const client = new ImapFlow({ host: imap.host, port: imap.port, secure: imap.secure, auth: { user: imap.user, pass: imap.password }, logger: false });
  await client.connect();
  try {
    const lock = await client.getMailboxLock(imap.mailbox);
    try {
      const uids = (await client.search({ seen: false }, { uid: true })) || [];
      for (const uid of uids) {
        const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
        if (message && message.source) await ingest(ctx, message.source);
        await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
}

function createTransport(config: EmailConfig): Transporter {
  const { outbound } = config;
  return nodemailer.createTransport({
    host: outbound.host,
    port: outbound.port,
    secure: outbound.secure,
    requireTLS: outbound.requireTls,
    ignoreTLS: !outbound.secure && !outbound.requireTls,
    auth: outbound.user ? { user: outbound.user, pass: outbound.password ?? '' } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
}

export default definePlugin<EmailConfig>({
  async start(ctx) {
    transport = createTransport(ctx.config);
    if (ctx.config.listener) await startListener(ctx);
    if (ctx.config.imap) {
      const poll = () =>
        pollImap(ctx).then(
          () => {
            lastError = null;
          },
          (error: Error) => {
            lastError = `IMAP: ${error.message}`;
            ctx.logger.warn('IMAP poll failed', { reason: error.message });
          },
        );
      void poll();
      imapTimer = ctx.timers.setInterval(poll, ctx.config.imap.pollSeconds * 1000);
    }
  },
  async stop() {
    if (imapTimer !== undefined) imapTimer = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    transport?.close();
    transport = undefined;
  },
  health: () => ({
    status: lastError ? 'degraded' : 'up',
    detail: lastError ?? `${stats.received} received, ${stats.dropped} dropped as auto-replies/bounces`,
  }),
  async test(ctx) {
    const probe = createTransport(ctx.config);
    try {
      await probe.verify();
      if (ctx.config.imap) {
        const client = new ImapFlow({
          host: ctx.config.imap.host,
          port: ctx.config.imap.port,
          secure: ctx.config.imap.secure,
          auth: { user: ctx.config.imap.user, pass: ctx.config.imap.password },
          logger: false,
        });
        await client.connect();
        await client.logout();
      }
      return { ok: true, detail: 'SMTP server accepted the connection' };
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    } finally {
      probe.close();
    }
  },
  channel: {
    async send(message, ctx) {
      const thread = (await ctx.kv.get<Thread>(`conv:${message.conversationId}`)) ?? newThread(message);
      if (!thread) throw new Error('no email thread is known for this conversation and the contact has no email address');
      transport ??= createTransport(ctx.config);
      // A stable Message-ID per message: a retried send is recognisable downstream.
      const ourId = `${message.messageId}@${domainOf(ctx.config.address)}`;
      const last = thread.references.at(-1);
      // The agent's files go along as MIME attachments (only files of this conversation, never a note's).
      const files = [];
      for (const attachment of message.attachments ?? []) {
        if (!attachment.id) continue;
        const file = await ctx.downloadAttachment({ id: attachment.id, contactId: message.contactId });
        files.push({ filename: file.name, contentType: file.contentType, content: Buffer.from(file.dataBase64, 'base64') });
      }
      await transport.sendMail({
        from: { name: ctx.config.displayName, address: ctx.config.address },
        to: thread.name ? { name: thread.name, address: thread.address } : thread.address,
        subject: thread.references.length ? replySubject(thread.subject) : thread.subject,
        text: message.text,
        messageId: `<${ourId}>`,
        inReplyTo: last ? `<${last}>` : undefined,
        references: thread.references.map((id) => `<${id}>`),
        attachments: files,
        headers: {
          'X-Switchboard-Message-Id': message.messageId,
          ...(message.authorType === 'system' ? { 'Auto-Submitted': 'auto-generated' } : {}),
        },
      });
      await ctx.kv.set(`msg:${ourId}`, thread.threadKey, { ttlMs: 365 * 86_400_000 });
      await ctx.kv.set(`conv:${message.conversationId}`, { ...thread, references: [...thread.references, ourId].slice(-20) });
      return { externalId: ourId };
    },
  },
});
