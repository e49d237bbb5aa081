/**
 * The web-chat channel. Serves the embeddable widget (`GET /plugins/webchat/widget.js`) and the
 * widget's HTTP API:
 * - `POST /plugins/webchat/<inbox>/session` → a visitor id, a session token for this API and a
 *   realtime gateway token (with the contact once known, so the visitor can follow the conversation).
 *   Anonymous visitors get an unguessable random id (kept in the browser's localStorage). Signed-in
 *   users are identified by `user.id` plus `user.hash` = hex HMAC-SHA256(siteSecret, user.id); only a
 *   valid hash makes the identity verified (and lets it merge contacts). A bad hash is treated as an
 *   anonymous visitor: the claim is ignored.
 * - `POST /plugins/webchat/<inbox>/messages` (Bearer session token) → `ctx.inbound`, with pre-chat
 *   form answers and attachments (type and size limits).
 * - The session says whether anyone is `online` (`ctx.presence()`: the inbox team's agents, or any
 *   agent). When nobody is, the widget shows an offline form: `POST /plugins/webchat/<inbox>/offline`
 *   stores the message in the visitor's conversation and opens a ticket for it (`ctx.createTicket`).
 * Replies reach the widget through the realtime gateway, which the widget resumes by `seq`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  definePlugin,
  hmacHex,
  safeEqual,
  type AttachmentRef,
  type PluginContext,
  type PluginHttpRequest,
  type PluginHttpResponse,
} from '@switchboard/plugin-sdk';
import { WIDGET_JS } from './widget-bundle.generated.js';

export interface WebchatConfig {
  siteSecret: string;
  allowedOrigins: string[];
  title: Record<string, string>;
  preChatForm: { enabled: boolean; fields: Array<{ name: string; required: boolean }> };
  maxAttachmentBytes: number;
  allowedAttachmentTypes: string[];
  sessionTtlHours: number;
}

type Ctx = PluginContext<WebchatConfig>;

interface SessionClaims {
  vid: string;
  verified: boolean;
  name?: string;
  exp: number;
}

const ANON = /^a-[A-Za-z0-9_-]{22,64}$/;
const USER_ID = /^[A-Za-z0-9_.@-]{1,100}$/;
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const EMAIL = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;
const b64 = (text: string) => Buffer.from(text).toString('base64url');

let sessionKey = '';

function cors(ctx: Ctx, request: PluginHttpRequest): Record<string, string> | null {
  const origin = request.headers.origin;
  if (!origin) return {};
  const allowed = ctx.config.allowedOrigins.length === 0 || ctx.config.allowedOrigins.includes(origin.replace(/\/+$/, ''));
  if (!allowed) return null;
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': 'content-type, authorization',
    'access-control-expose-headers': 'content-disposition',
    'access-control-max-age': '600',
    vary: 'Origin',
  };
}

const fail = (headers: Record<string, string>, status: number, code: string, message: string): PluginHttpResponse => ({
  status,
  headers,
  body: { error: { code, message } },
});

function signSession(claims: SessionClaims): string {
  const payload = b64(JSON.stringify(claims));
  return `${payload}.${createHmac('sha256', sessionKey).update(payload).digest('base64url')}`;
}

function readSession(header: string | undefined): SessionClaims | null {
  const token = header?.startsWith('Bearer ') ? header.slice(7) : '';
  const [payload, signature] = token.split('.');
  if (!payload || !signature || !safeEqual(signature, createHmac('sha256', sessionKey).update(payload).digest('base64url'))) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SessionClaims;
    return claims.exp * 1000 > Date.now() ? claims : null;
  } catch {
    return null;
  }
}

function parseJson(raw: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(raw) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** CORS and the visitor's session token, checked alike by every visitor endpoint. */
function visitorSession(ctx: Ctx, request: PluginHttpRequest): { headers: Record<string, string>; claims: SessionClaims } | PluginHttpResponse {
  const headers = cors(ctx, request);
  if (!headers) return { status: 403, body: { error: { code: 'origin_not_allowed', message: 'This site may not embed the chat' } } };
  const claims = readSession(request.headers.authorization);
  if (!claims) return fail(headers, 401, 'session_invalid', 'Start a new chat session');
  return { headers, claims };
}

/** A visitor's session plus a message body (`clientMessageId`, `text`), validated alike for the chat and the offline form. */
function visitorMessage(
  ctx: Ctx,
  request: PluginHttpRequest,
): { headers: Record<string, string>; claims: SessionClaims; body: Record<string, unknown>; clientMessageId: string; text: string } | PluginHttpResponse {
  const session = visitorSession(ctx, request);
  if ('status' in session) return session;
  const { headers } = session;
  const body = parseJson(request.rawBody);
  if (!body) return fail(headers, 400, 'invalid_body', 'JSON object expected');
  const { clientMessageId, text } = body;
  if (typeof clientMessageId !== 'string' || !CLIENT_ID.test(clientMessageId)) return fail(headers, 400, 'invalid_body', 'clientMessageId is required');
  if (typeof text !== 'string' || text.trim().length === 0 || text.length > 10_000)
    return fail(headers, 400, 'invalid_body', 'text must be 1–10000 characters');
  return { ...session, body, clientMessageId, text };
}

async function session(ctx: Ctx, request: PluginHttpRequest): Promise<PluginHttpResponse> {
  const headers = cors(ctx, request);
  if (!headers) return { status: 403, body: { error: { code: 'origin_not_allowed', message: 'This site may not embed the chat' } } };
  const body = parseJson(request.rawBody || '{}');
  if (!body) return fail(headers, 400, 'invalid_body', 'JSON object expected');
  const user = body.user as { id?: unknown; hash?: unknown; name?: unknown } | undefined;
  let visitorId: string;
  let verified = false;
  let name: string | undefined;
  if (
    user &&
    typeof user.id === 'string' &&
    USER_ID.test(user.id) &&
    typeof user.hash === 'string' &&
    safeEqual(user.hash.toLowerCase(), hmacHex(ctx.config.siteSecret, user.id))
  ) {
    visitorId = `u-${user.id}`;
    verified = true;
    name = typeof user.name === 'string' ? user.name.slice(0, 100) : undefined;
  } else {
    // An unverified identity claim is ignored entirely: it never names or merges a contact.
    if (user) ctx.logger.info('identity claim without a valid hash ignored');
    visitorId = typeof body.visitorId === 'string' && ANON.test(body.visitorId) ? body.visitorId : `a-${randomBytes(18).toString('base64url')}`;
  }
  const known = await ctx.kv.get<{ contactId: string; conversationId: string }>(`visitor:${visitorId}`);
  const ttlSeconds = ctx.config.sessionTtlHours * 3600;
  const gateway = await ctx.visitorToken({ visitorId, contactId: known?.contactId ?? null, ttlSeconds });
  // Nobody online for this inbox's team: the widget shows the offline form (→ a ticket). If presence
  // cannot be read, fall back to live chat: the message is stored either way.
  const online = await ctx.presence().then(
    (presence) => presence.online,
    (error: Error) => {
      ctx.logger.warn('presence unavailable; offering live chat', { reason: error.message });
      return true;
    },
  );
  return {
    status: 200,
    headers,
    body: {
      visitorId,
      verified,
      sessionToken: signSession({ vid: visitorId, verified, name, exp: Math.floor(Date.now() / 1000) + ttlSeconds }),
      gatewayToken: gateway.token,
      conversationId: known?.conversationId ?? null,
      online,
      config: {
        title: ctx.config.title,
        preChatForm: ctx.config.preChatForm,
        maxAttachmentBytes: ctx.config.maxAttachmentBytes,
        allowedAttachmentTypes: ctx.config.allowedAttachmentTypes,
      },
    },
  };
}

async function message(ctx: Ctx, request: PluginHttpRequest): Promise<PluginHttpResponse> {
  const visitor = visitorMessage(ctx, request);
  if ('status' in visitor) return visitor;
  const { headers, claims, body, clientMessageId, text } = visitor;

  const form: Record<string, string> = {};
  if (body.form && typeof body.form === 'object') {
    for (const field of ctx.config.preChatForm.fields) {
      const value = (body.form as Record<string, unknown>)[field.name];
      if (typeof value === 'string' && value.trim()) form[field.name] = value.trim().slice(0, 200);
    }
  }

  const attachments: AttachmentRef[] = [];
  const files = Array.isArray(body.attachments) ? body.attachments.slice(0, 5) : [];
  for (const file of files as Array<{ filename?: unknown; contentType?: unknown; dataBase64?: unknown }>) {
    if (typeof file?.filename !== 'string' || typeof file.contentType !== 'string' || typeof file.dataBase64 !== 'string') {
      return fail(headers, 400, 'invalid_attachment', 'attachments need filename, contentType and dataBase64');
    }
    if (!ctx.config.allowedAttachmentTypes.includes(file.contentType))
      return fail(headers, 415, 'attachment_type_not_allowed', `${file.contentType} is not allowed`);
    if (Math.floor((file.dataBase64.length * 3) / 4) > ctx.config.maxAttachmentBytes)
      return fail(headers, 413, 'attachment_too_large', 'The file is too large');
    // A conversation attachment: the core checks the bytes against the declared type and its own
    // allow-list, encrypts it and lets the conversation's agents download it.
    try {
      attachments.push(await ctx.uploadAttachment({ filename: file.filename, contentType: file.contentType, dataBase64: file.dataBase64 }));
    } catch (error) {
      const code = String((error as { code?: unknown }).code ?? '');
      const status =
        code === 'attachment_too_large'
          ? 413
          : code === 'attachment_type_not_allowed' || code === 'attachment_type_mismatch'
            ? 415
            : code === 'attachment_invalid'
              ? 400
              : 0;
      if (status) return fail(headers, status, code, `${file.filename}: ${(error as Error).message}`);
      throw error;
    }
  }

  const prefix = Object.keys(form).length
    ? `${Object.entries(form)
        .map(([key, value]) => `${key}: ${value}`)
        .join('\n')}\n\n`
    : '';
  const result = await ctx.inbound({
    externalContact: {
      externalId: claims.vid,
      verified: claims.verified,
      // Names from a verified session or from the visitor's own pre-chat form; never used to merge.
      name: claims.name ?? form.name,
      ...(claims.verified ? {} : { email: form.email, phone: form.phone }),
    },
    idempotencyKey: `${claims.vid}:${clientMessageId}`,
    text: `${prefix}${text}`,
    attachments,
  });
  const previous = await ctx.kv.get<{ contactId: string; conversationId: string }>(`visitor:${claims.vid}`);
  if (previous?.conversationId !== result.conversationId || previous.contactId !== result.contactId) {
    await ctx.kv.set(`visitor:${claims.vid}`, { contactId: result.contactId, conversationId: result.conversationId });
  }
  const gateway = await ctx.visitorToken({ visitorId: claims.vid, contactId: result.contactId, ttlSeconds: ctx.config.sessionTtlHours * 3600 });
  return {
    status: result.duplicate ? 200 : 201,
    headers,
    body: { conversationId: result.conversationId, messageId: result.messageId, duplicate: result.duplicate, gatewayToken: gateway.token },
  };
}

/**
 * The offline form: nobody was online, so the visitor leaves a message (and, unless signed in, an
 * email address to be answered at). The message is stored in the visitor's conversation like any
 * other, and a ticket (type `question`, requester = the visitor's contact) is opened for it.
 */
async function offline(ctx: Ctx, request: PluginHttpRequest): Promise<PluginHttpResponse> {
  const visitor = visitorMessage(ctx, request);
  if ('status' in visitor) return visitor;
  const { headers, claims, body, clientMessageId, text } = visitor;
  const email = typeof body.email === 'string' ? body.email.trim().slice(0, 200) : '';
  if (email && !EMAIL.test(email)) return fail(headers, 400, 'invalid_email', 'Enter a valid email address');
  if (!email && !claims.verified) return fail(headers, 400, 'email_required', 'Leave an email address so we can reply');
  const name = typeof body.name === 'string' && body.name.trim() ? body.name.trim().slice(0, 100) : undefined;

  const result = await ctx.inbound({
    externalContact: {
      externalId: claims.vid,
      verified: claims.verified,
      name: claims.name ?? name,
      // An unverified address is stored on the contact to answer at; it never merges contacts.
      ...(claims.verified || !email ? {} : { email }),
    },
    idempotencyKey: `${claims.vid}:${clientMessageId}`,
    text,
  });
  await ctx.kv.set(`visitor:${claims.vid}`, { contactId: result.contactId, conversationId: result.conversationId });
  const firstLine = text.trim().split('\n')[0]!.slice(0, 80);
  const ticket = await ctx.createTicket({
    conversationId: result.conversationId,
    subject: `Web chat (offline): ${firstLine}`,
    description: email ? `${text}\n\nReply to: ${email}` : text,
    type: 'question',
    tags: ['webchat-offline'],
    idempotencyKey: `offline:${claims.vid}:${clientMessageId}`,
  });
  const gateway = await ctx.visitorToken({ visitorId: claims.vid, contactId: result.contactId, ttlSeconds: ctx.config.sessionTtlHours * 3600 });
  return {
    status: ticket.duplicate ? 200 : 201,
    headers,
    body: {
      conversationId: result.conversationId,
      messageId: result.messageId,
      ticketNumber: ticket.number,
      duplicate: ticket.duplicate,
      gatewayToken: gateway.token,
    },
  };
}

/**
 * A visitor opens a file of their own conversation (their upload or an agent's reply; never an
 * internal note's). The session token must be sent as `Authorization: Bearer`, so the widget fetches
 * the file and saves it; it is always served as a download, never rendered.
 */
async function download(ctx: Ctx, request: PluginHttpRequest): Promise<PluginHttpResponse> {
  const session = visitorSession(ctx, request);
  if ('status' in session) return session;
  const { headers, claims } = session;
  const id = request.params.id ?? '';
  const known = await ctx.kv.get<{ contactId: string; conversationId: string }>(`visitor:${claims.vid}`);
  const missing = () => fail(headers, 404, 'attachment_not_found', 'There is no such file');
  if (!known || !/^[0-9a-f-]{36}$/.test(id)) return missing();
  let file;
  try {
    file = await ctx.downloadAttachment({ id, contactId: known.contactId });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'attachment_not_found') return missing();
    throw error;
  }
  const ascii = file.name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  return {
    status: 200,
    headers: {
      ...headers,
      'content-type': file.contentType,
      'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.name)}`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, no-store',
    },
    bodyBase64: file.dataBase64,
  };
}

function preflight(ctx: Ctx, request: PluginHttpRequest): PluginHttpResponse {
  const headers = cors(ctx, request);
  return headers ? { status: 204, headers } : { status: 403 };
}

export default definePlugin<WebchatConfig>({
  async init(ctx) {
    await ctx.kv.setIfAbsent('session-key', randomBytes(32).toString('hex'));
    sessionKey = (await ctx.kv.get<string>('session-key'))!;
    ctx.http.route('GET', '/widget.js', () => ({
      status: 200,
      headers: { 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
      body: WIDGET_JS,
    }));
    ctx.http.route('POST', '/:inbox/session', (request) => session(ctx, request));
    ctx.http.route('OPTIONS', '/:inbox/session', (request) => preflight(ctx, request));
    ctx.http.route('POST', '/:inbox/messages', (request) => message(ctx, request));
    ctx.http.route('OPTIONS', '/:inbox/messages', (request) => preflight(ctx, request));
    ctx.http.route('POST', '/:inbox/offline', (request) => offline(ctx, request));
    ctx.http.route('GET', '/:inbox/attachments/:id', (request) => download(ctx, request));
    ctx.http.route('OPTIONS', '/:inbox/attachments/:id', (request) => preflight(ctx, request));
    ctx.http.route('OPTIONS', '/:inbox/offline', (request) => preflight(ctx, request));
  },
  health: () => ({ status: 'up' }),
  channel: {
    // Replies reach visitors through the realtime gateway's conversation feed; nothing to push here.
    async send(outbound) {
      return { externalId: outbound.messageId };
    },
  },
});
