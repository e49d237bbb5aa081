/**
 * A minimal channel plugin to copy. It shows the whole contract:
 * - a webhook route (`ctx.http.route`) that authenticates its caller itself,
 * - handing the customer's message to the core (`ctx.inbound`),
 * - remembering per-conversation state (`ctx.kv`),
 * - sending replies with the SSRF-safe `ctx.fetch` (throw to be retried with backoff).
 */
import { definePlugin, safeEqual } from '@switchboard/plugin-sdk';

interface Config {
  token: string;
  replyUrl?: string;
  allowPrivateNetwork: boolean;
}

export default definePlugin<Config>({
  init(ctx) {
    ctx.http.route('POST', '/:inbox/incoming', async (request) => {
      if (!safeEqual(request.headers.authorization ?? '', `Bearer ${ctx.config.token}`)) {
        return { status: 401, body: { error: { code: 'unauthorized', message: 'Bad token' } } };
      }
      let body: { id?: unknown; from?: unknown; text?: unknown };
      try {
        body = JSON.parse(request.rawBody);
      } catch {
        return { status: 400, body: { error: { code: 'invalid_body', message: 'JSON expected' } } };
      }
      if (typeof body.id !== 'string' || typeof body.from !== 'string' || typeof body.text !== 'string') {
        return { status: 400, body: { error: { code: 'invalid_body', message: 'id, from and text are required strings' } } };
      }
      const result = await ctx.inbound({
        externalContact: { externalId: body.from, verified: false },
        idempotencyKey: body.id,
        text: body.text,
      });
      await ctx.kv.set(`conv:${result.conversationId}`, body.from);
      return { status: 202, body: { conversationId: result.conversationId } };
    });
  },

  health: () => ({ status: 'up' }),

  channel: {
    async send(message, ctx) {
      if (!ctx.config.replyUrl) return { externalId: 'not-configured' };
      const to = await ctx.kv.get<string>(`conv:${message.conversationId}`);
      const response = await ctx.fetch(ctx.config.replyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': message.messageId },
        body: JSON.stringify({ to, text: message.text }),
      });
      if (!response.ok) throw new Error(`reply endpoint answered ${response.status}`);
      return { externalId: message.messageId };
    },
  },
});
