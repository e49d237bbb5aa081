import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { ContactsService } from '../../src/contacts/contacts.service.js';
import { SYSTEM_ACTOR, type Actor } from '../../src/identity/actor.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import type { DataSource } from 'typeorm';

const agent: Actor = { kind: 'user', id: 'agent-1', roles: ['agent'], teamIds: ['team-a'], scopes: [] };

describe.each(backends().map((backend) => [backend.name, backend] as const))('conversations service on %s', (name, backend) => {
  let app: TestApp;
  let conversations: ConversationsService;
  let contacts: ContactsService;
  let db: DataSource;
  let inboxId: string;

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env() });
    conversations = app.app.get(ConversationsService);
    contacts = app.app.get(ContactsService);
    db = app.app.get(DATA_SOURCE);
    inboxId = (await conversations.createInbox({ name: 'Web chat', channel: 'webchat', teamId: 'team-a' })).id;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('ingests inbound messages into one open conversation with increasing seq and dedupes retries', async () => {
    const first = await conversations.ingestInbound({
      inboxId,
      externalContact: { externalId: 'visitor-1', verified: false, name: 'Ada' },
      idempotencyKey: 'm1',
      text: 'hello',
    });
    expect(first).toMatchObject({ createdConversation: true, duplicate: false, message: { seq: 1, direction: 'in', authorType: 'contact' } });
    expect(first.conversation.teamId).toBe('team-a');
    const second = await conversations.ingestInbound({
      inboxId,
      externalContact: { externalId: 'visitor-1', verified: false },
      idempotencyKey: 'm2',
      text: 'again',
    });
    expect(second).toMatchObject({ createdConversation: false, duplicate: false, message: { seq: 2 } });
    expect(second.conversation.id).toBe(first.conversation.id);
    const retry = await conversations.ingestInbound({
      inboxId,
      externalContact: { externalId: 'visitor-1', verified: false },
      idempotencyKey: 'm1',
      text: 'hello',
    });
    expect(retry).toMatchObject({ duplicate: true, message: { id: first.message.id, seq: 1 } });

    const reply = await conversations.postMessage(agent, first.conversation.id, { text: 'Hi Ada', idempotencyKey: 'r1' });
    expect(reply).toMatchObject({ duplicate: false, message: { seq: 3, direction: 'out', authorType: 'agent', authorId: 'agent-1' } });
    const bot = await conversations.postMessage(SYSTEM_ACTOR, first.conversation.id, { text: 'note', idempotencyKey: 'b1', private: true, authorId: 'bot-1' });
    expect(bot.message).toMatchObject({ seq: 4, authorType: 'bot', authorId: 'bot-1', private: true });

    const messages = await conversations.listMessages(first.conversation.id, { afterSeq: 1 });
    expect(messages.map((message) => message.seq)).toEqual([2, 3, 4]);

    const outbox = await db.query(`SELECT subject FROM outbox WHERE subject LIKE 'sb.evt.conversation.%'`);
    expect(outbox.filter((row: { subject: string }) => row.subject === 'sb.evt.conversation.message_created')).toHaveLength(4);
    expect(outbox.filter((row: { subject: string }) => row.subject === 'sb.evt.conversation.created')).toHaveLength(1);
  });

  it('stores contact PII encrypted, not in plain text', async () => {
    await conversations.ingestInbound({
      inboxId,
      externalContact: { externalId: 'visitor-pii', verified: false, name: 'Grace Hopper', email: 'grace@example.com' },
      idempotencyKey: 'pii-1',
      text: 'hi',
    });
    const rows = (await db.query('SELECT name_enc, emails_enc FROM contacts')) as Array<{ name_enc: string | null; emails_enc: string | null }>;
    expect(JSON.stringify(rows)).not.toContain('Grace');
    expect(JSON.stringify(rows)).not.toContain('grace@example.com');
    const found = await contacts.search(null, { q: 'grace' });
    expect(found.items.map((contact) => contact.name)).toEqual(['Grace Hopper']);
    expect((await contacts.search(null, { email: 'GRACE@example.com' })).items).toHaveLength(1);
  });

  it('resolves, snoozes, reopens and annotates', async () => {
    const inbound = await conversations.ingestInbound({
      inboxId,
      externalContact: { externalId: 'visitor-2', verified: false },
      idempotencyKey: 'x1',
      text: 'help',
    });
    const id = inbound.conversation.id;
    await conversations.setStatus(id, { status: 'resolved' }, agent);
    const next = await conversations.ingestInbound({
      inboxId,
      externalContact: { externalId: 'visitor-2', verified: false },
      idempotencyKey: 'x2',
      text: 'more help',
    });
    expect(next.createdConversation).toBe(true);
    expect(next.conversation.id).not.toBe(id);
    const reopened = await conversations.setStatus(id, { status: 'open' });
    expect(reopened.status).toBe('open');
    const annotated = await conversations.annotateMessage(inbound.message.id, { language: 'en', intent: 'billing', intentConfidence: 0.9, emotion: 'neutral' });
    expect(annotated.annotations).toMatchObject({ language: 'en', intent: 'billing', intentConfidence: 0.9 });
    await waitFor(
      async () => {
        const rows = await db.query(`SELECT subject FROM outbox WHERE subject = 'sb.evt.conversation.reopened' AND sent_at IS NOT NULL`);
        return rows.length === 1;
      },
      10_000,
      `reopened relayed on ${name}`,
    );
  });
});
