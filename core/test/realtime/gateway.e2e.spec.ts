import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { VisitorTokenService } from '../../src/realtime/visitor-token.service.js';
import { TestSocket } from './ws-client.js';

const tokenOf = (headers: Record<string, string>) => headers.authorization!.replace(/^Bearer /, '');

describe.each(backends().map((backend) => [backend.name, backend] as const))('realtime gateway on %s', (_name, backend) => {
  let env: Record<string, string>;
  let app: TestApp;
  let inboxA: string;
  let inboxB: string;
  let agentA: string;
  const sockets: TestSocket[] = [];

  const conversations = () => app.app.get(ConversationsService);
  const open = async (options: Parameters<typeof TestSocket.connect>[1]) => {
    const socket = await TestSocket.connect(app.url, options);
    sockets.push(socket);
    return socket;
  };
  const customer = async (inboxId: string, externalId: string, text: string) =>
    (await conversations().ingestInbound({ inboxId, externalContact: { externalId, verified: false }, idempotencyKey: `${externalId}:${text}`, text }))
      .conversation;

  beforeAll(async () => {
    env = { ...(await backend.env()), SWITCHBOARD_WS_ALLOWED_ORIGINS: 'https://console.example', SWITCHBOARD_WS_MAX_PAYLOAD: '65536' };
    app = await startTestApp({ env });
    inboxA = (await conversations().createInbox({ name: 'A', channel: 'webchat', teamId: 'team-a' })).id;
    inboxB = (await conversations().createInbox({ name: 'B', channel: 'webchat', teamId: 'team-b' })).id;
    agentA = tokenOf(await app.authHeaders({ roles: ['agent'], teamIds: ['team-a'], sub: 'ws-agent-a' }));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await app?.close();
  });

  it('refuses a handshake without credentials, with a bad token, or from a foreign Origin', async () => {
    await expect(TestSocket.connect(app.url)).rejects.toMatchObject({ status: 401 });
    await expect(TestSocket.connect(app.url, { token: 'not-a-token' })).rejects.toMatchObject({ status: 401 });
    await expect(TestSocket.connect(app.url, { token: agentA, origin: 'https://evil.example' })).rejects.toMatchObject({ status: 403 });
    const auditor = await app.authHeaders({ roles: ['auditor'], sub: 'ws-origin-auditor' });
    await waitFor(async () => {
      const response = await fetch(`${app.url}/api/v1/audit?action=access.denied&limit=1000`, { headers: auditor });
      const items = ((await response.json()) as { items: Array<{ objectType: string; details: { reason?: string } | null }> }).items;
      return items.some((item) => item.objectType === 'websocket' && item.details?.reason === 'origin_not_allowed');
    });
    const allowed = await open({ token: agentA, origin: 'https://console.example' });
    await allowed.next('welcome', () => true).catch(() => undefined);
    expect(allowed.frames[0]?.event).toBe('welcome');
    // The token may also come as the access_token query parameter.
    const byQuery = await open({ query: `access_token=${encodeURIComponent(agentA)}` });
    await byQuery.waitFor(() => byQuery.frames.find((frame) => frame.event === 'welcome'));
  });

  it('does not let a team-A agent subscribe to a team-B conversation', async () => {
    const b = await customer(inboxB, 'cust-b', 'secret for team B');
    const a = await customer(inboxA, 'cust-a', 'hello team A');
    const socket = await open({ token: agentA });
    socket.send('subscribe', { topic: 'conversation', id: b.id, afterSeq: 0, ref: 'b' });
    const error = await socket.next('error', (data) => data.ref === 'b');
    expect(error.data.code).toBe('not_found');
    socket.send('subscribe', { topic: 'inbox', id: inboxB, ref: 'ib' });
    expect((await socket.next('error', (data) => data.ref === 'ib')).data.code).toBe('not_found');
    socket.send('subscribe', { topic: 'conversation', id: a.id, afterSeq: 0, ref: 'a' });
    await socket.next('subscribed', (data) => data.ref === 'a');
    await socket.waitFor(() => socket.messages(a.id).length === 1);
    await customer(inboxB, 'cust-b', 'more for team B');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.frames.some((frame) => frame.data.conversationId === b.id && frame.event !== 'error')).toBe(false);
    expect(JSON.stringify(socket.frames)).not.toContain('secret for team B');
    // Both refused subscriptions are audited, like denials over HTTP.
    const auditor = await app.authHeaders({ roles: ['auditor'], sub: 'ws-auditor' });
    await waitFor(async () => {
      const response = await fetch(`${app.url}/api/v1/audit?action=access.denied&limit=1000`, { headers: auditor });
      const items = ((await response.json()) as { items: Array<{ objectType: string; objectId: string }> }).items;
      return items.some((item) => item.objectType === 'conversation' && item.objectId === b.id) && items.some((item) => item.objectId === inboxB);
    });
  });

  it('closes a socket that sends an oversized frame with 1009', async () => {
    const socket = await open({ token: agentA });
    socket.send('ping', { pad: 'x'.repeat(70_000) });
    expect(await socket.waitClosed()).toBe(1009);
  });

  it('delivers all 100 messages in order after a 5 s disconnection, without duplicates', async () => {
    const first = await customer(inboxA, 'resume-1', 'message 0');
    let socket = await open({ token: agentA });
    socket.send('subscribe', { topic: 'conversation', id: first.id, afterSeq: 0 });
    await socket.waitFor(() => socket.messages(first.id).length === 1);
    const lastSeen = Math.max(...socket.messages(first.id));
    socket.terminate();

    const sending = (async () => {
      for (let i = 1; i <= 100; i++) {
        await conversations().ingestInbound({
          inboxId: inboxA,
          externalContact: { externalId: 'resume-1', verified: false },
          idempotencyKey: `resume-1:${i}`,
          text: `message ${i}`,
        });
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    socket = await open({ token: agentA });
    socket.send('subscribe', { topic: 'conversation', id: first.id, afterSeq: lastSeen });
    await sending;
    const expected = Array.from({ length: 100 }, (_, i) => lastSeen + 1 + i);
    await socket.waitFor(() => socket.messages(first.id).length >= 100, 20_000, '100 messages');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.messages(first.id)).toEqual(expected);
    const texts = socket.frames.filter((frame) => frame.event === 'message').map((frame) => (frame.data.message as { text: string }).text);
    expect(texts).toEqual(Array.from({ length: 100 }, (_, i) => `message ${i + 1}`));
  }, 60_000);

  it('resumes from the database after the core process it was connected to restarted', async () => {
    const conversation = await customer(inboxA, 'restart-1', 'before 0');
    const socket = await open({ token: agentA });
    socket.send('subscribe', { topic: 'conversation', id: conversation.id, afterSeq: 0 });
    await socket.waitFor(() => socket.messages(conversation.id).length === 1);
    const lastSeen = Math.max(...socket.messages(conversation.id));
    for (let i = 1; i <= 50; i++) {
      await conversations().ingestInbound({
        inboxId: inboxA,
        externalContact: { externalId: 'restart-1', verified: false },
        idempotencyKey: `restart:${i}`,
        text: `m${i}`,
      });
    }
    const seenBefore = socket.messages(conversation.id).length;
    await app.close();
    expect(await socket.waitClosed()).toBe(1001);
    app = await startTestApp({ env });
    for (let i = 51; i <= 100; i++) {
      await conversations().ingestInbound({
        inboxId: inboxA,
        externalContact: { externalId: 'restart-1', verified: false },
        idempotencyKey: `restart:${i}`,
        text: `m${i}`,
      });
    }
    // The client resumes from the last seq it saw (it may have seen some of the first 50 live).
    const resumeFrom = Math.max(lastSeen, ...socket.messages(conversation.id));
    const again = await open({ token: agentA });
    again.send('subscribe', { topic: 'conversation', id: conversation.id, afterSeq: resumeFrom });
    const all = () => [...socket.messages(conversation.id), ...again.messages(conversation.id)];
    await again.waitFor(() => all().length >= 101, 20_000, 'all messages');
    expect(all()).toEqual(Array.from({ length: 101 }, (_, i) => lastSeen + i));
    expect(seenBefore).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('serves web-chat visitors with a visitor token: send, receive agent replies, never private notes', async () => {
    const tokens = app.app.get(VisitorTokenService);
    const { token } = await tokens.issue({ visitorId: 'visitor-42', inboxId: inboxA });
    await expect(TestSocket.connect(app.url, { visitorToken: `${token.slice(0, -2)}xx` })).rejects.toMatchObject({ status: 401 });
    const visitor = await open({ visitorToken: token });
    visitor.send('message.send', { clientMessageId: 'c1', text: '你好, I need help 🙂' });
    const ack = await visitor.next('message.ack');
    const conversationId = ack.data.conversationId as string;
    expect(ack.data.seq).toBe(1);

    const agentSocket = await open({ token: agentA });
    agentSocket.send('subscribe', { topic: 'conversation', id: conversationId, afterSeq: 0 });
    await agentSocket.waitFor(() => agentSocket.messages(conversationId).length === 1);
    // Typing is ephemeral and reaches the other side only.
    agentSocket.send('typing', { conversationId, state: 'start' });
    expect((await visitor.next('typing')).data).toMatchObject({ conversationId, state: 'start', from: 'agent' });
    agentSocket.send('message.send', { conversationId, clientMessageId: 'note-1', text: 'internal: check refund', private: true });
    await agentSocket.next('message.ack');
    // Watched from before the send: the visitor's copy may arrive before the agent's ack.
    const replied = visitor.next('message', (data) => (data.message as { text: string }).text === 'Sure, happy to help');
    agentSocket.send('message.send', { conversationId, clientMessageId: 'reply-1', text: 'Sure, happy to help' });
    await agentSocket.next('message.ack');
    const reply = await replied;
    expect(reply.data.seq).toBe(3);
    await agentSocket.waitFor(() => agentSocket.messages(conversationId).length === 3);
    expect(JSON.stringify(visitor.frames)).not.toContain('internal: check refund');
    // A visitor cannot reach other conversations or topics.
    const other = await customer(inboxA, 'someone-else', 'hi');
    visitor.send('subscribe', { topic: 'conversation', id: other.id, afterSeq: 0, ref: 'x' });
    expect((await visitor.next('error', (data) => data.ref === 'x')).data.code).toBe('not_found');
    visitor.send('subscribe', { topic: 'inbox', id: inboxA, ref: 'y' });
    expect((await visitor.next('error', (data) => data.ref === 'y')).data.code).toBe('forbidden');
  });

  it('keeps an agent online while their socket is connected', async () => {
    const socket = await open({ token: agentA });
    await socket.waitFor(() => socket.frames.find((frame) => frame.event === 'welcome'));
    const me = await fetch(`${app.url}/api/v1/routing/presence/me`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${agentA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'online' }),
    });
    expect(me.status).toBe(200);
    const before = ((await me.json()) as { lastSeenAt: string }).lastSeenAt;
    await waitFor(
      async () => {
        const response = await fetch(`${app.url}/api/v1/routing/presence/me`, { headers: { authorization: `Bearer ${agentA}` } });
        const body = (await response.json()) as { lastSeenAt: string; status: string };
        return body.status === 'online' && body.lastSeenAt > before;
      },
      15_000,
      'a heartbeat from the socket',
    );
  });
});
