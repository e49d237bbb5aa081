import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureHeaders, signBody, verifySignature } from '@switchboard/plugin-sdk';
import { startTestCore, type TestCore } from '@switchboard/plugin-sdk/testing';

const SECRET = 'inbound-secret-0123456789';
const HOOK_SECRET = 'outbound-secret-0123456789';

// The embedded stack (SQLite + in-process bus) and the production one (MariaDB + NATS JetStream, whose
// consumer redelivers outbound messages with the instance's backoff and max attempts).
const BACKENDS: Array<'sqlite' | 'mariadb+nats'> = process.env.SB_TEST_MYSQL_ROOT_URL || process.env.CI === 'true' ? ['sqlite', 'mariadb+nats'] : ['sqlite'];

describe.each(BACKENDS)('API channel on %s', (backend) => {
  let core: TestCore;
  let inboxId: string;
  let receiver: Server;
  let receiverUrl: string;
  const received: Array<{ status: number; deliveryId: string; valid: boolean; body: { message: { text: string }; contact: { id: string } | null } }> = [];
  let failuresLeft = 2;
  let slowReceiver = false;

  beforeAll(async () => {
    // A local webhook receiver that fails twice, then succeeds.
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const valid = verifySignature(HOOK_SECRET, request.headers as Record<string, string>, body) === null;
        const status = failuresLeft-- > 0 ? 500 : 200;
        received.push({ status, deliveryId: String(request.headers['x-delivery-id']), valid, body: JSON.parse(body) });
        const answer = () => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `hook-${received.length}` }));
        // Out-of-order completion, for the ordering test: a later request may finish first.
        if (slowReceiver) setTimeout(answer, Math.floor(Math.random() * 15));
        else answer();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    core = await startTestCore({ plugins: [new URL('..', import.meta.url)], backend, env: { SWITCHBOARD_ATTACHMENT_MAX_BYTES: '4096' } });
    inboxId = (await core.createInbox({ name: 'Partner app', channel: 'api' })).id;
    await core.addInstance('api', {
      id: 'api-partner',
      inboxId,
      config: { secret: SECRET, webhookUrl: receiverUrl, webhookSecret: HOOK_SECRET, allowPrivateNetwork: true },
      delivery: { maxAttempts: 4, backoffMs: [100, 200] },
    });
  });

  afterAll(async () => {
    await core?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const post = (body: string, headers: Record<string, string>) =>
    core.request('POST', `/plugins/api/${inboxId}/messages`, { body, headers: { 'content-type': 'application/json', ...headers } });

  const message = (id: string, text = 'Where is my order?') => JSON.stringify({ messageId: id, contact: { id: 'cust-42', name: 'Li Wei' }, text });

  it('rejects a bad signature, a stale timestamp, a missing signature and a replay with 401 and a code', async () => {
    const body = message('m-bad');
    const bad = await post(body, { 'x-timestamp': String(Math.floor(Date.now() / 1000)), 'x-signature': 'sha256=' + '0'.repeat(64) });
    expect([bad.status, bad.json.error.code]).toEqual([401, 'signature_invalid']);

    const staleTs = String(Math.floor(Date.now() / 1000) - 3600);
    const stale = await post(body, { 'x-timestamp': staleTs, 'x-signature': signBody(SECRET, staleTs, body) });
    expect([stale.status, stale.json.error.code]).toEqual([401, 'timestamp_stale']);

    const missing = await post(body, {});
    expect([missing.status, missing.json.error.code]).toEqual([401, 'signature_missing']);

    const replayBody = message('m-replay');
    const headers = signatureHeaders(SECRET, replayBody);
    expect((await post(replayBody, headers)).status).toBe(202);
    const replay = await post(replayBody, headers);
    expect([replay.status, replay.json.error.code]).toEqual([401, 'replayed']);

    const wrongInbox = await core.request('POST', '/plugins/api/not-an-inbox/messages', { body, headers: signatureHeaders(SECRET, body) });
    expect(wrongInbox.status).toBe(404);
  });

  it('stores a signed message in a conversation; a re-sent message id is a duplicate', async () => {
    const body = message('m-1', 'Hello from the partner app 你好');
    const response = await post(body, signatureHeaders(SECRET, body));
    expect(response.status).toBe(202);
    const messages = await core.messages(response.json.conversationId);
    expect(messages.map((m) => [m.direction, m.text])).toContainEqual(['in', 'Hello from the partner app 你好']);

    const again = await post(body, signatureHeaders(SECRET, body, Date.now() + 1000));
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ duplicate: true, messageId: response.json.messageId });

    const invalid = JSON.stringify({ messageId: 'm-2', contact: {}, text: '' });
    const rejected = await post(invalid, signatureHeaders(SECRET, invalid));
    expect([rejected.status, rejected.json.error.code]).toEqual([400, 'invalid_body']);
  });

  it('accepts files with a message: stored as conversation attachments (type from the bytes), downloadable by agents; refused files get 413/415 with a code', async () => {
    const log = 'router log\nwan: down\n';
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(64, 1)]);
    const body = JSON.stringify({
      messageId: 'm-files',
      contact: { id: 'cust-42' },
      text: '',
      attachments: [
        { filename: 'router.log', contentType: 'text/plain', dataBase64: Buffer.from(log).toString('base64') },
        { filename: 'invoice', dataBase64: pdf.toString('base64') },
      ],
    });
    const response = await post(body, signatureHeaders(SECRET, body));
    expect(response.status).toBe(202);
    const stored = (await core.messages(response.json.conversationId)).find((m) => m.id === response.json.messageId)!;
    const attachments = stored.attachments as Array<{ id: string; name: string; contentType: string; size: number; sha256: string }>;
    expect(attachments).toMatchObject([
      { name: 'router.log', contentType: 'text/plain', size: log.length },
      { name: 'invoice.pdf', contentType: 'application/pdf', size: pdf.length },
    ]);
    const download = await core.request('GET', `/api/v1/attachments/${attachments[0]!.id}/content`, { as: { roles: ['admin'] } });
    expect(download.status).toBe(200);
    expect(download.text).toBe(log);
    expect(download.headers['content-disposition']).toMatch(/^attachment;/);

    const html = JSON.stringify({
      messageId: 'm-html',
      contact: { id: 'cust-42' },
      text: 'see page',
      attachments: [{ filename: 'page.png', contentType: 'image/png', dataBase64: Buffer.from('<html><script>alert(1)</script>').toString('base64') }],
    });
    const refused = await post(html, signatureHeaders(SECRET, html));
    expect([refused.status, refused.json.error.code]).toEqual([415, 'attachment_type_not_allowed']);
    const conversation = await core.messages(response.json.conversationId);
    expect(conversation.some((m) => m.text === 'see page')).toBe(false);

    const big = JSON.stringify({
      messageId: 'm-big',
      contact: { id: 'cust-42' },
      text: 'big',
      attachments: [{ filename: 'big.pdf', dataBase64: Buffer.concat([pdf, Buffer.alloc(5000)]).toString('base64') }],
    });
    const tooLarge = await post(big, signatureHeaders(SECRET, big));
    expect([tooLarge.status, tooLarge.json.error.code]).toEqual([413, 'attachment_too_large']);

    const malformed = JSON.stringify({
      messageId: 'm-bad-file',
      contact: { id: 'cust-42' },
      text: 'x',
      attachments: [{ filename: 'a.txt', dataBase64: '***' }],
    });
    const invalid = await post(malformed, signatureHeaders(SECRET, malformed));
    expect([invalid.status, invalid.json.error.code]).toEqual([400, 'invalid_body']);
  });

  it('delivers an agent reply to the webhook exactly once after two failures, signed, with a delivery log', async () => {
    const body = message('m-3', 'Can I change the address?');
    const inbound = await post(body, signatureHeaders(SECRET, body));
    const reply = await core.reply(inbound.json.conversationId, 'Yes, send us the new one.');
    await core.waitFor(() => received.some((r) => r.status === 200), 20_000, 'a successful delivery');
    await new Promise((resolve) => setTimeout(resolve, 800)); // no further attempts arrive
    expect(received.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(received.map((r) => r.deliveryId))).toEqual(new Set([reply.id]));
    expect(received.every((r) => r.valid)).toBe(true);
    expect(received[2]!.body.message.text).toBe('Yes, send us the new one.');
    expect(received[2]!.body.contact).toEqual({ id: 'cust-42' });

    // A private note is never delivered.
    await core.reply(inbound.json.conversationId, 'internal: VIP customer', { private: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received).toHaveLength(3);

    const log = await core.request('GET', '/api/v1/plugins/instances/api-partner/deliveries', { as: { roles: ['admin'] } });
    expect(log.json.items).toHaveLength(1);
    expect(log.json.items[0]).toMatchObject({ messageId: reply.id, status: 'delivered', attempts: 3, externalId: 'hook-3' });
  });

  it('delivers conversations in parallel and each conversation in order', async () => {
    slowReceiver = true;
    const before = received.length;
    const conversations = await Promise.all(
      ['order-a', 'order-b', 'order-c'].map(async (id) => {
        const body = JSON.stringify({ messageId: id, contact: { id: `cust-${id}` }, text: 'hello' });
        return (await post(body, signatureHeaders(SECRET, body))).json.conversationId as string;
      }),
    );
    // Eight replies per conversation, written in order per conversation, the conversations interleaved.
    await Promise.all(
      conversations.map(async (conversationId) => {
        for (let n = 1; n <= 8; n++) await core.reply(conversationId, `${conversationId} reply ${n}`);
      }),
    );
    await core.waitFor(() => received.length - before >= 24, 20_000, '24 deliveries');
    slowReceiver = false;
    const delivered = received.slice(before).map((entry) => entry.body.message.text);
    for (const conversationId of conversations) {
      const mine = delivered.filter((text) => text.startsWith(conversationId)).map((text) => Number(text.split(' ').pop()));
      expect(mine).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
  });

  it('keeps no delivery per reply for an instance without a webhook: its clients read replies through the REST API', async () => {
    const other = (await core.createInbox({ name: 'Receive only', channel: 'api' })).id;
    await core.addInstance('api', { id: 'api-receive-only', inboxId: other, config: { secret: SECRET } });
    const body = message('m-receive-only');
    const inbound = await core.request('POST', `/plugins/api/${other}/messages`, { body, headers: signatureHeaders(SECRET, body) });
    expect(inbound.status).toBe(202);
    const before = received.length;
    const reply = await core.reply(inbound.json.conversationId, 'Read me through the API');
    expect((await core.messages(inbound.json.conversationId)).map((item) => item.id)).toContain(reply.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const log = await core.request('GET', '/api/v1/plugins/instances/api-receive-only/deliveries', { as: { roles: ['admin'] } });
    expect(log.json.items).toEqual([]);
    expect(received.length).toBe(before);
  });

  it('refuses to deliver to a private address unless allowed (SSRF), and dead-letters after the attempts', async () => {
    const other = (await core.createInbox({ name: 'Locked down', channel: 'api' })).id;
    await core.addInstance('api', {
      id: 'api-locked',
      inboxId: other,
      config: { secret: SECRET, webhookUrl: receiverUrl },
      delivery: { maxAttempts: 2, backoffMs: [50] },
    });
    const body = message('m-4');
    const inbound = await core.request('POST', `/plugins/api/${other}/messages`, { body, headers: signatureHeaders(SECRET, body) });
    expect(inbound.status).toBe(202);
    const before = received.length;
    const reply = await core.reply(inbound.json.conversationId, 'This must not reach loopback');
    const entry = await core.waitFor(
      async () => {
        const log = await core.request('GET', '/api/v1/plugins/instances/api-locked/deliveries', { as: { roles: ['admin'] } });
        return log.json.items.find((item: { status: string }) => item.status === 'dead_letter');
      },
      15_000,
      'dead letter',
    );
    expect(entry).toMatchObject({ messageId: reply.id, attempts: 2 });
    expect(entry.lastError).toMatch(/Refusing to connect to 127\.0\.0\.1/);
    expect(received.length).toBe(before);
  });
});
