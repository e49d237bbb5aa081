import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, type TestApp } from '../harness/test-app.js';
import { ContactsService } from '../../src/contacts/contacts.service.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';

interface Message {
  id: string;
  seq: number;
  text: string;
  private: boolean;
  authorType: string;
}
interface ErrorBody {
  error: { code: string; message: string; details?: { unknownFields?: string[] } };
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('conversations API on %s', (_name, backend) => {
  let app: TestApp;
  let admin: Record<string, string>;
  let agentA: Record<string, string>;
  let agentB: Record<string, string>;
  let conversationA: string;
  let conversationB: string;
  let inboxA: string;

  const call = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env() });
    admin = await app.authHeaders({ roles: ['admin'], sub: 'conv-admin' });
    agentA = await app.authHeaders({ roles: ['agent'], teamIds: ['team-a'], sub: 'agent-a' });
    agentB = await app.authHeaders({ roles: ['agent'], teamIds: ['team-b'], sub: 'agent-b' });
    inboxA = (await call(admin, 'POST', '/api/v1/inboxes', { name: 'Chat A', channel: 'webchat', teamId: 'team-a' })).body.id;
    const inboxB = (await call(admin, 'POST', '/api/v1/inboxes', { name: 'Chat B', channel: 'webchat', teamId: 'team-b' })).body.id;
    const service = app.app.get(ConversationsService);
    conversationA = (
      await service.ingestInbound({ inboxId: inboxA, externalContact: { externalId: 'v-a', verified: false }, idempotencyKey: 'a-1', text: 'hello A' })
    ).conversation.id;
    conversationB = (
      await service.ingestInbound({ inboxId: inboxB, externalContact: { externalId: 'v-b', verified: false }, idempotencyKey: 'b-1', text: 'hello B' })
    ).conversation.id;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('posts a reply and a private note, and lists them in seq order', async () => {
    const reply = await call(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: 'Hi there', idempotencyKey: 'reply-1' });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ seq: 2, direction: 'out', authorType: 'agent', private: false });
    const note = await call(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, {
      text: 'internal',
      private: true,
      content: { type: 'buttons', text: 'Pick', buttons: [{ label: 'Yes', value: 'yes' }] },
      attachments: [{ name: 'a.png', contentType: 'image/png', size: 12, url: 'https://files.example/a.png' }],
    });
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({ seq: 3, private: true, content: { type: 'buttons' }, attachments: [{ name: 'a.png' }] });
    const list = await call(agentA, 'GET', `/api/v1/conversations/${conversationA}/messages?afterSeq=1`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((message: Message) => message.seq)).toEqual([2, 3]);
    const back = await call(agentA, 'GET', `/api/v1/conversations/${conversationA}/messages?beforeSeq=3&limit=1`);
    expect(back.body.items.map((message: Message) => message.seq)).toEqual([2]);
  });

  it('stores exactly one message for concurrent retries with one idempotency key', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 20 }, () => call(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: 'once', idempotencyKey: 'same-key' })),
    );
    const ids = new Set(attempts.map((attempt) => attempt.body.id));
    expect(ids.size).toBe(1);
    expect(attempts.filter((attempt) => attempt.status === 201)).toHaveLength(1);
    expect(attempts.filter((attempt) => attempt.status === 200)).toHaveLength(19);
    const all = await call(agentA, 'GET', `/api/v1/conversations/${conversationA}/messages?limit=500`);
    expect(all.body.items.filter((message: Message) => message.text === 'once')).toHaveLength(1);
    const seqs = all.body.items.map((message: Message) => message.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => index + 1));
    // The header works too.
    const header = { ...agentA, 'idempotency-key': 'header-key' };
    const first = await call(header, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: 'via header' });
    const again = await call(header, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: 'via header' });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(first.body.id);
  });

  it('gives 50 concurrent writers to one conversation unique, gap-free seq numbers', async () => {
    const service = app.app.get(ConversationsService);
    const conversation = await service.ingestInbound({
      inboxId: inboxA,
      externalContact: { externalId: 'v-busy', verified: false },
      idempotencyKey: 'busy-0',
      text: 'start',
    });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        call(agentA, 'POST', `/api/v1/conversations/${conversation.conversation.id}/messages`, { text: `writer ${index}`, idempotencyKey: `writer-${index}` }),
      ),
    );
    expect(results.every((result) => result.status === 201)).toBe(true);
    const seqs = results.map((result) => result.body.seq as number).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, index) => index + 2));
    const stored = await call(agentA, 'GET', `/api/v1/conversations/${conversation.conversation.id}/messages?limit=500`);
    expect(stored.body.items.map((message: Message) => message.seq)).toEqual(Array.from({ length: 51 }, (_, index) => index + 1));
  });

  it('gives concurrent first messages of one new customer one contact and one conversation, with every message kept', async () => {
    const service = app.app.get(ConversationsService);
    // The contact is created inside the ingest transaction: on MariaDB the racing transactions clash on the
    // identity's unique key and the losers retry, finding the winner's contact.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        service.ingestInbound({
          inboxId: inboxA,
          externalContact: { externalId: 'v-new-racer', verified: false },
          idempotencyKey: `racer-${index}`,
          text: `hi ${index}`,
        }),
      ),
    );
    expect(new Set(results.map((result) => result.contactId)).size).toBe(1);
    expect(new Set(results.map((result) => result.conversation.id)).size).toBe(1);
    expect(results.filter((result) => result.createdConversation)).toHaveLength(1);
    expect(results.map((result) => result.message.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
    const contacts = app.app.get(ContactsService);
    const found = await contacts.search(null, { identifier: 'v-new-racer' });
    expect(found.items.map((contact) => contact.id)).toEqual([results[0]!.contactId]);
  });

  it('rejects unknown fields with 400 naming them', async () => {
    const response = await call(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: 'x', colour: 'red', sender: 'me' });
    expect(response.status).toBe(400);
    const body = response.body as ErrorBody;
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.message).toContain('colour');
    expect(body.error.details?.unknownFields).toEqual(expect.arrayContaining(['colour', 'sender']));
    const inbox = await call(admin, 'POST', '/api/v1/inboxes', { name: 'x', channel: 'webchat', owner: 'me' });
    expect(inbox.status).toBe(400);
    expect((inbox.body as ErrorBody).error.message).toContain('owner');
  });

  it('refuses text over 64 KB with 413 message_too_large', async () => {
    const response = await call(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: 'a'.repeat(64 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect((response.body as ErrorBody).error.code).toBe('message_too_large');
    // Exactly 64 KB of multi-byte text is fine; one more byte is not.
    const ok = await call(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: '€'.repeat(21845) + 'a' });
    expect(ok.status).toBe(201);
    const over = await call(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: '€'.repeat(21846) });
    expect(over.status).toBe(413);
  });

  it('rejects bad enum values, sorts and content with 400 and a code', async () => {
    const status = await call(agentA, 'PATCH', `/api/v1/conversations/${conversationA}`, { status: 'closed' });
    expect(status.status).toBe(400);
    expect((status.body as ErrorBody).error.code).toBe('validation_failed');
    expect((status.body as ErrorBody).error.message).toContain('status');
    const priority = await call(agentA, 'PATCH', `/api/v1/conversations/${conversationA}`, { priority: 'huge' });
    expect(priority.status).toBe(400);
    const filter = await call(agentA, 'GET', `/api/v1/conversations?status=archived`);
    expect(filter.status).toBe(400);
    const sort = await call(agentA, 'GET', `/api/v1/conversations?sort=contactName`);
    expect(sort.status).toBe(400);
    const content = await call(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: 'x', content: { type: 'carousel' } });
    expect(content.status).toBe(400);
    expect((content.body as ErrorBody).error.code).toBe('message_content_invalid');
    const snooze = await call(agentA, 'PATCH', `/api/v1/conversations/${conversationA}`, { status: 'snoozed' });
    expect(snooze.status).toBe(400);
    expect((snooze.body as ErrorBody).error.code).toBe('conversation_invalid');
    const cursor = await call(agentA, 'GET', `/api/v1/conversations?cursor=not-a-cursor`);
    expect(cursor.status).toBe(400);
    expect((cursor.body as ErrorBody).error.code).toBe('invalid_cursor');
  });

  it('stores SQL and HTML payloads verbatim and returns them as plain JSON strings', async () => {
    const payloads = ["'); DROP TABLE messages; --", '<script>alert("x")</script><img src=x onerror=alert(1)>', "1' OR '1'='1", '客服 🎧 \\ % _ \u0000end'];
    for (const [index, text] of payloads.entries()) {
      const posted = await call(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text, idempotencyKey: `verbatim-${index}` });
      expect(posted.status).toBe(201);
      expect(posted.contentType).toContain('application/json');
      expect(posted.body.text).toBe(text);
    }
    const list = await call(agentA, 'GET', `/api/v1/conversations/${conversationA}/messages?limit=500`);
    for (const text of payloads) expect(list.body.items.some((message: Message) => message.text === text)).toBe(true);
    const tagged = await call(agentA, 'PATCH', `/api/v1/conversations/${conversationA}`, { tags: ['<b>vip</b>', "x'--"] });
    expect(tagged.body.tags).toEqual(['<b>vip</b>', "x'--"]);
    const byTag = await call(agentA, 'GET', `/api/v1/conversations?tag=${encodeURIComponent("x'--")}`);
    expect(byTag.body.items.map((item: { id: string }) => item.id)).toEqual([conversationA]);
  });

  it('hides other teams’ conversations and inboxes with 404 on every route', async () => {
    expect((await call(agentA, 'GET', `/api/v1/conversations/${conversationB}`)).status).toBe(404);
    expect((await call(agentA, 'GET', `/api/v1/conversations/${conversationB}/messages`)).status).toBe(404);
    expect((await call(agentA, 'POST', `/api/v1/conversations/${conversationB}/messages`, { text: 'sneaky' })).status).toBe(404);
    expect((await call(agentA, 'PATCH', `/api/v1/conversations/${conversationB}`, { priority: 'high' })).status).toBe(404);
    expect((await call(agentA, 'POST', `/api/v1/conversations/${conversationB}/assign`, { agentId: 'agent-a' })).status).toBe(404);
    const list = await call(agentA, 'GET', '/api/v1/conversations?limit=100');
    expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain(conversationB);
    expect((await call(agentA, 'GET', '/api/v1/conversations?teamId=team-b')).status).toBe(404);
    const messagesB = await call(agentB, 'GET', `/api/v1/conversations/${conversationB}/messages`);
    expect(messagesB.status).toBe(200);
    expect(messagesB.body.items.every((message: Message) => message.text !== 'sneaky')).toBe(true);
    const inboxes = await call(agentA, 'GET', '/api/v1/inboxes');
    expect(inboxes.body.items.every((inbox: { teamId: string | null }) => inbox.teamId !== 'team-b')).toBe(true);
  });

  it('paginates, filters and sorts conversations with a cursor', async () => {
    await call(agentA, 'POST', `/api/v1/conversations/${conversationA}/assign`, { agentId: 'agent-a' });
    const assigned = await call(agentA, 'GET', '/api/v1/conversations?assigneeId=agent-a');
    expect(assigned.body.items.map((item: { id: string }) => item.id)).toEqual([conversationA]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await call(
        admin,
        'GET',
        `/api/v1/conversations?limit=1&sort=createdAt${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.items.map((item) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const resolved = await call(agentA, 'PATCH', `/api/v1/conversations/${conversationA}`, { status: 'resolved' });
    expect(resolved.body).toMatchObject({ status: 'resolved' });
    const open = await call(admin, 'GET', '/api/v1/conversations?status=open&limit=100');
    expect(open.body.items.map((item: { id: string }) => item.id)).not.toContain(conversationA);
  });

  it('documents the routes in OpenAPI', async () => {
    const response = await fetch(`${app.url}/api/docs/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, unknown> };
    for (const path of ['/api/v1/conversations', '/api/v1/conversations/{id}/messages', '/api/v1/inboxes', '/api/v1/contacts', '/api/v1/contacts/{id}/merge']) {
      expect(document.paths[path]).toBeDefined();
    }
  });
});
