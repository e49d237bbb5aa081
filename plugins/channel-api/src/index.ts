/**
 * The API channel: a generic signed HTTP channel for any external system (WhatsApp or WeChat
 * gateways, in-house apps).
 *
 * Inbound: `POST /plugins/api/<inbox>/messages` with `X-Timestamp: <unix seconds>` and
 * `X-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`. Stale timestamps and
 * replayed signatures get 401 with a code. Files ride along as `attachments: [{ filename, contentType?,
 * dataBase64 }]` (at most 5; the whole body is bound by the core's HTTP body limit): each is stored as a
 * conversation attachment (type detected from the bytes, allow-list, size limit, encrypted at rest);
 * a refused file answers 413 / 415 / 400 with the core's attachment code and stores nothing. Outbound: every agent or bot reply is POSTed to
 * `webhookUrl`, signed the same way, with `X-Delivery-Id` (the message id) for deduplication;
 * the host retries failures with backoff and dead-letters after `maxAttempts`.
 */
import { definePlugin, signatureHeaders, verifySignature, type AttachmentRef, type PluginContext, type PluginHttpResponse } from '@switchboard/plugin-sdk';

/** Instances (by their logger) already told that replies are not pushed. */
const warnedInboundOnly = new WeakSet<object>();

/**
 * Conversations whose reply address this process has stored or seen, per instance (by its logger): the
 * address of a conversation never changes once written, so later messages skip the key-value read.
 */
const knownThreads = new WeakMap<object, Set<string>>();
const KNOWN_THREADS_MAX = 10_000;

function rememberThread(ctx: PluginContext<ApiChannelConfig>, conversationId: string): void {
  let known = knownThreads.get(ctx.logger);
  if (!known) knownThreads.set(ctx.logger, (known = new Set()));
  // Oldest first out: a Set iterates in insertion order.
  if (known.size >= KNOWN_THREADS_MAX) known.delete(known.values().next().value!);
  known.add(conversationId);
}

export interface ApiChannelConfig {
  secret: string;
  webhookUrl?: string;
  webhookSecret?: string;
  toleranceSeconds: number;
  timeoutMs: number;
  allowPrivateNetwork: boolean;
}

interface InboundBody {
  messageId: string;
  contact: { id: string; verified?: boolean; name?: string; email?: string; phone?: string; language?: string };
  text: string;
  threadId?: string;
  content?: Record<string, unknown>;
  attachments?: InboundFile[];
}

interface InboundFile {
  filename: string;
  contentType?: string;
  dataBase64: string;
}

const MAX_FILES = 5;
const FILE_STATUS: Record<string, number> = {
  attachment_too_large: 413,
  attachment_type_not_allowed: 415,
  attachment_type_mismatch: 415,
  attachment_invalid: 400,
};

const reject = (status: number, code: string, message: string): PluginHttpResponse => ({ status, body: { error: { code, message } } });

function parseBody(raw: string): InboundBody | string {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return 'the body must be JSON';
  }
  const b = body as Partial<InboundBody>;
  if (!b || typeof b !== 'object') return 'the body must be a JSON object';
  if (typeof b.messageId !== 'string' || b.messageId.length < 1 || b.messageId.length > 128) return 'messageId must be a string of 1–128 characters';
  if (!b.contact || typeof b.contact.id !== 'string' || b.contact.id.length < 1 || b.contact.id.length > 128)
    return 'contact.id must be a string of 1–128 characters';
  if (b.contact.verified !== undefined && typeof b.contact.verified !== 'boolean') return 'contact.verified must be a boolean';
  for (const key of ['name', 'email', 'phone', 'language'] as const) {
    if (b.contact[key] !== undefined && (typeof b.contact[key] !== 'string' || b.contact[key]!.length > 200)) return `contact.${key} must be a string`;
  }
  if (b.attachments !== undefined) {
    if (!Array.isArray(b.attachments) || b.attachments.length > MAX_FILES) return `attachments must be a list of at most ${MAX_FILES} files`;
    for (const file of b.attachments as Array<Partial<InboundFile>>) {
      if (!file || typeof file.filename !== 'string' || file.filename.length < 1 || file.filename.length > 255)
        return 'attachments[].filename must be a string of 1–255 characters';
      if (file.contentType !== undefined && (typeof file.contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(file.contentType)))
        return 'attachments[].contentType must look like type/subtype';
      if (typeof file.dataBase64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(file.dataBase64)) return 'attachments[].dataBase64 must be base64';
    }
  }
  const files = b.attachments?.length ?? 0;
  if (typeof b.text !== 'string' || (b.text.length === 0 && files === 0) || b.text.length > 64 * 1024)
    return 'text must be a string of at most 64 KB, non-empty unless files are attached';
  if (b.threadId !== undefined && (typeof b.threadId !== 'string' || b.threadId.length > 128)) return 'threadId must be a string of at most 128 characters';
  if (b.content !== undefined && (typeof b.content !== 'object' || b.content === null || Array.isArray(b.content))) return 'content must be an object';
  return b as InboundBody;
}

async function receive(ctx: PluginContext<ApiChannelConfig>, request: { headers: Record<string, string>; rawBody: string }): Promise<PluginHttpResponse> {
  const { config } = ctx;
  const problem = verifySignature(config.secret, request.headers, request.rawBody, { toleranceSeconds: config.toleranceSeconds });
  if (problem) return reject(401, problem, 'The request signature is missing, invalid or too old');
  // Replay guard: a signature is accepted once within twice the tolerance window.
  const fresh = await ctx.kv.setIfAbsent(`sig:${request.headers['x-signature']}`, 1, { ttlMs: config.toleranceSeconds * 2000 });
  if (!fresh) return reject(401, 'replayed', 'This signed request was already received');
  const body = parseBody(request.rawBody);
  if (typeof body === 'string') return reject(400, 'invalid_body', body);
  const attachments: AttachmentRef[] = [];
  for (const file of body.attachments ?? []) {
    try {
      attachments.push(
        await ctx.uploadAttachment({ filename: file.filename, contentType: file.contentType ?? 'application/octet-stream', dataBase64: file.dataBase64 }),
      );
    } catch (error) {
      const code = String((error as { code?: unknown }).code ?? '');
      if (FILE_STATUS[code]) return reject(FILE_STATUS[code], code, `${file.filename}: ${(error as Error).message}`);
      throw error;
    }
  }
  const result = await ctx.inbound({
    externalContact: {
      externalId: body.contact.id,
      // The caller is authenticated by the shared secret, so it may vouch for its users.
      verified: body.contact.verified === true,
      name: body.contact.name,
      email: body.contact.email,
      phone: body.contact.phone,
      language: body.contact.language,
    },
    idempotencyKey: body.messageId,
    externalMessageId: body.messageId,
    text: body.text,
    content: body.content as never,
    attachments: attachments.length ? attachments : undefined,
    threadKey: body.threadId ? `api:${body.threadId}` : undefined,
  });
  // Remember where replies go: once per conversation (a read is cheaper than a write, and no read at all once seen here).
  if (!knownThreads.get(ctx.logger)?.has(result.conversationId)) {
    if (result.createdConversation || !(await ctx.kv.get(`conv:${result.conversationId}`))) {
      await ctx.kv.set(`conv:${result.conversationId}`, { contactId: body.contact.id, threadId: body.threadId ?? null });
    }
    rememberThread(ctx, result.conversationId);
  }
  return { status: result.duplicate ? 200 : 202, body: { conversationId: result.conversationId, messageId: result.messageId, duplicate: result.duplicate } };
}

export default definePlugin<ApiChannelConfig>({
  init(ctx) {
    ctx.http.route('POST', '/:inbox/messages', (request) => receive(ctx, request));
  },
  health: () => ({ status: 'up' }),
  async test(ctx) {
    if (!ctx.config.webhookUrl) return { ok: true, detail: 'Inbound only: no webhookUrl configured' };
    const body = JSON.stringify({ event: 'ping' });
    try {
      const response = await ctx.fetch(ctx.config.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signatureHeaders(ctx.config.webhookSecret ?? ctx.config.secret, body) },
        body,
        timeoutMs: ctx.config.timeoutMs,
      });
      return { ok: response.ok, detail: `webhook answered ${response.status}` };
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    }
  },
  channel: {
    // Without a webhook, clients read replies through the REST API.
    sends: (config) => Boolean(config.webhookUrl),
    async send(message, ctx) {
      const { config } = ctx;
      if (!config.webhookUrl) {
        // Inbound only is a valid setup (replies are read through the API): say so once, not once per reply.
        if (!warnedInboundOnly.has(ctx.logger)) {
          warnedInboundOnly.add(ctx.logger);
          ctx.logger.warn('replies are not pushed: no webhookUrl configured (inbound only)', { messageId: message.messageId });
        }
        return { externalId: 'no-webhook' };
      }
      const thread = await ctx.kv.get<{ contactId: string; threadId: string | null }>(`conv:${message.conversationId}`);
      const body = JSON.stringify({
        event: 'message.created',
        deliveryId: message.messageId,
        conversationId: message.conversationId,
        contact: thread ? { id: thread.contactId } : null,
        threadId: thread?.threadId ?? null,
        message: {
          id: message.messageId,
          seq: message.seq,
          text: message.text,
          content: message.content ?? null,
          attachments: message.attachments ?? [],
          authorType: message.authorType,
        },
        attempt: message.attempt,
      });
      const response = await ctx.fetch(config.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-delivery-id': message.messageId,
          ...signatureHeaders(config.webhookSecret ?? config.secret, body),
        },
        body,
        timeoutMs: config.timeoutMs,
        maxRedirects: 0,
      });
      if (!response.ok) throw new Error(`webhook answered ${response.status}`);
      let externalId = message.messageId;
      try {
        const parsed = response.json<{ id?: unknown }>();
        if (typeof parsed?.id === 'string' && parsed.id) externalId = parsed.id;
      } catch {
        // a non-JSON 2xx is fine
      }
      return { externalId };
    },
  },
});
