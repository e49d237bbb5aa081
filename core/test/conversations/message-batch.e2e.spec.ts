import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, type TestApp } from '../harness/test-app.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { MessageBatchWriter } from '../../src/conversations/message-batch.writer.js';
import { SYSTEM_ACTOR, type Actor } from '../../src/identity/actor.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { ContactsService } from '../../src/contacts/contacts.service.js';
import type { PostMessageResult } from '../../src/conversations/conversations.types.js';

const agentA: Actor = { kind: 'user', id: 'agent-a', roles: ['agent'], teamIds: ['team-a'], scopes: [] };

/**
 * Bursts of concurrent appends, as the API sees them under load. On MariaDB they go through the
 * pipelined batch writer (shared transactions of two round trips); on SQLite through the general
 * path. Either way the outcomes must be the same: gap-free seqs, one message per idempotency key,
 * one `message_created` per new message, team scope per message, and waking conversations woken.
 */
describe.each(backends().map((backend) => [backend.name, backend] as const))('concurrent message appends on %s', (name, backend) => {
  let app: TestApp;
  let conversations: ConversationsService;
  let db: DataSource;
  let teamAInbox: string;
  let teamBInbox: string;
  const batched: Array<boolean> = [];

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env() });
    conversations = app.app.get(ConversationsService);
    db = app.app.get(DATA_SOURCE);
    const writer = app.app.get(MessageBatchWriter);
    const append = writer.append.bind(writer);
    jest.spyOn(writer, 'append').mockImplementation(async (request) => {
      const outcome = await append(request);
      batched.push(outcome !== null);
      return outcome;
    });
    teamAInbox = (await conversations.createInbox({ name: 'A', channel: 'api', teamId: 'team-a' })).id;
    teamBInbox = (await conversations.createInbox({ name: 'B', channel: 'api', teamId: 'team-b' })).id;
  });

  afterAll(async () => {
    await app?.close();
  });

  const open = async (inboxId: string, visitor: string) =>
    (
      await conversations.ingestInbound({
        inboxId,
        externalContact: { externalId: visitor, verified: false },
        idempotencyKey: `${visitor}-hello`,
        text: 'hello',
      })
    ).conversation.id;

  it('gives every new message the next seq, returns originals for repeated keys and refuses what the actor may not see, per message', async () => {
    const ours = await Promise.all([1, 2, 3, 4].map((n) => open(teamAInbox, `burst-${n}`)));
    const foreign = await open(teamBInbox, 'burst-foreign');
    batched.length = 0;

    // 200 new messages over four conversations, then the same keys again mixed with new ones, plus
    // posts the agent may not make (another team's conversation, one that does not exist).
    const post = (conversationId: string, key: string) =>
      conversations.postMessage(agentA, conversationId, { text: `message ${key} <b>'; DROP TABLE messages; --</b>`, idempotencyKey: key });
    const first = await Promise.all(Array.from({ length: 200 }, (_, i) => post(ours[i % 4]!, `k${i}`)));
    const second = await Promise.allSettled([
      ...Array.from({ length: 40 }, (_, i) => post(ours[i % 4]!, `k${i * 5}`)),
      ...Array.from({ length: 40 }, (_, i) => post(ours[i % 4]!, `n${i}`)),
      post(foreign, 'x1'),
      post('00000000-0000-0000-0000-000000000000', 'x2'),
    ]);

    expect(first.every((result) => !result.duplicate)).toBe(true);
    const repeats = second.slice(0, 40).map((result) => (result as PromiseFulfilledResult<PostMessageResult>).value);
    repeats.forEach((result, i) => {
      expect(result.duplicate).toBe(true);
      expect(result.message.id).toBe(first[i * 5]!.message.id);
    });
    expect(second.slice(40, 80).every((result) => result.status === 'fulfilled' && !result.value.duplicate)).toBe(true);
    for (const refused of second.slice(80)) {
      expect(refused.status).toBe('rejected');
      expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'conversation_not_found' });
    }

    for (const conversationId of ours) {
      const messages = await conversations.listMessages(conversationId, { limit: 200 });
      // The greeting is seq 1; the 50 + 10 messages posted here follow without gaps or repeats.
      expect(messages.map((message) => message.seq)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
      expect((await conversations.get(conversationId)).lastSeq).toBe(61);
    }
    const stored = first.map((result) => result.message);
    const [readBack] = await conversations.listMessages(stored[0]!.conversationId, { afterSeq: stored[0]!.seq - 1, limit: 1 });
    expect(readBack).toEqual(stored[0]);
    expect(readBack!.text).toBe("message k0 <b>'; DROP TABLE messages; --</b>");

    const events: Array<{ count: number | string }> = await db.query(
      `SELECT COUNT(*) AS count FROM outbox WHERE subject = 'sb.evt.conversation.message_created' AND event_id IN (${stored.map(() => '?').join(', ')})`,
      stored.map((message) => `message:${message.id}`),
    );
    expect(Number(events[0]!.count)).toBe(200);
    const all: Array<{ count: number | string }> = await db.query(
      `SELECT COUNT(*) AS count FROM outbox WHERE subject = 'sb.evt.conversation.message_created' AND envelope LIKE ?`,
      [`%"conversationId":"${ours[0]}"%`],
    );
    expect(Number(all[0]!.count)).toBe(61);

    if (name === 'mariadb+nats') {
      // Most appends took the batch path (a batch holding a repeated key falls back as a whole, by design).
      expect(batched.filter(Boolean).length).toBeGreaterThan(150);
    } else {
      expect(batched).toEqual([]);
    }
  });

  it('lets a customer message wake a pending conversation, and opens a new conversation after resolution', async () => {
    const id = await open(teamAInbox, 'waker');
    await conversations.setStatus(id, { status: 'pending' }, agentA);
    const again = await conversations.ingestInbound({
      inboxId: teamAInbox,
      externalContact: { externalId: 'waker', verified: false },
      idempotencyKey: 'w2',
      text: 'still there?',
    });
    expect(again.conversation.id).toBe(id);
    expect((await conversations.get(id)).status).toBe('open');
    expect(again.message.seq).toBe(2);

    await conversations.setStatus(id, { status: 'resolved' }, agentA);
    const next = await conversations.ingestInbound({
      inboxId: teamAInbox,
      externalContact: { externalId: 'waker', verified: false },
      idempotencyKey: 'w3',
      text: 'new question',
    });
    expect(next.conversation.id).not.toBe(id);
    expect(next).toMatchObject({ createdConversation: true, message: { seq: 1 } });

    // Bot messages (system actor) and inbound repeats behave the same on every path.
    const bot = await conversations.postMessage(SYSTEM_ACTOR, next.conversation.id, { text: 'bot', idempotencyKey: 'bot-1', authorId: 'bot' });
    expect(bot.message).toMatchObject({ seq: 2, authorType: 'bot', authorId: 'bot' });
    const repeat = await conversations.ingestInbound({
      inboxId: teamAInbox,
      externalContact: { externalId: 'waker', verified: false },
      idempotencyKey: 'w3',
      text: 'new question',
    });
    expect(repeat).toMatchObject({ duplicate: true, message: { id: next.message.id } });
  });

  it("opens a first contact's conversation with its contact, identity, first message and events, once each", async () => {
    // On MariaDB in one round trip (MessageBatchWriter.open); on SQLite through the unit of work.
    const writer = app.app.get(MessageBatchWriter);
    const openOnce = writer.open.bind(writer);
    const pipelined: boolean[] = [];
    const spy = jest.spyOn(writer, 'open').mockImplementation(async (input) => {
      const stored = await openOnce(input);
      pipelined.push(stored !== null);
      return stored;
    });
    const opened = await conversations.ingestInbound({
      inboxId: teamAInbox,
      externalContact: { externalId: 'first-timer', verified: false },
      idempotencyKey: 'first-1',
      text: 'first words',
    });
    expect(opened).toMatchObject({ createdConversation: true, duplicate: false, message: { seq: 1, text: 'first words' } });
    const [conversation] = (await db.query('SELECT contact_id, last_seq FROM conversations WHERE id = ?', [opened.conversation.id])) as Array<{
      contact_id: string;
      last_seq: number | string;
    }>;
    expect(conversation).toMatchObject({ contact_id: opened.contactId });
    expect(Number(conversation!.last_seq)).toBe(1);
    const identities = (await db.query('SELECT contact_id FROM contact_identities WHERE contact_id = ?', [opened.contactId])) as unknown[];
    expect(identities).toHaveLength(1);
    // The contact is found by its channel identifier.
    const found = await app.app.get(ContactsService).search(SYSTEM_ACTOR, { identifier: 'first-timer', channel: 'api' });
    expect(found.items.map((contact) => contact.id)).toEqual([opened.contactId]);
    const events = (await db.query('SELECT subject FROM outbox WHERE event_id IN (?, ?, ?)', [
      `contact.created:${opened.contactId}`,
      `conversation.created:${opened.conversation.id}`,
      `message:${opened.message.id}`,
    ])) as Array<{ subject: string }>;
    expect(events.map((event) => event.subject).sort()).toEqual([
      'sb.evt.contact.created',
      'sb.evt.conversation.created',
      'sb.evt.conversation.message_created',
    ]);
    const again = await conversations.ingestInbound({
      inboxId: teamAInbox,
      externalContact: { externalId: 'first-timer', verified: false },
      idempotencyKey: 'first-2',
      text: 'second words',
    });
    expect(again).toMatchObject({ contactId: opened.contactId, createdConversation: false, message: { seq: 2 } });
    spy.mockRestore();
    expect(pipelined).toEqual(name === 'mariadb+nats' ? [true] : []);
  });

  it("posts messages together with a caller's statements in one transaction (MariaDB), all or nothing", async () => {
    const id = await open(teamAInbox, 'with-statements');
    const seqOf = async () =>
      Number(((await db.query('SELECT last_seq FROM conversations WHERE id = ?', [id])) as Array<{ last_seq: number | string }>)[0]!.last_seq);
    const priorityOf = async () => ((await db.query('SELECT priority FROM conversations WHERE id = ?', [id])) as Array<{ priority: string }>)[0]!.priority;
    const post = (key: string, check: (results: unknown[]) => void, actor: Actor = SYSTEM_ACTOR) =>
      conversations.postMessagesWith(
        actor,
        id,
        [
          { text: `${key} one`, idempotencyKey: `${key}-1`, authorId: 'bot' },
          { text: `${key} two`, idempotencyKey: `${key}-2`, authorId: 'bot' },
        ],
        {
          first: [{ sql: 'SELECT 7 AS seven', params: [] }],
          check,
          last: [{ sql: "UPDATE conversations SET priority = 'high' WHERE id = ?", params: [id] }],
          events: [{ subject: 'sb.evt.conversation.probe_posted', id: `probe:${key}`, data: { key } }],
        },
      );
    if (name !== 'mariadb+nats') {
      // SQLite has no pipelined transactions: the caller is told to take its unit of work.
      expect(await post('sqlite', () => undefined)).toBeNull();
      return;
    }
    const before = await seqOf();

    // A check that throws, and an actor who may not see the conversation: nothing is written.
    expect(
      await post('refused', () => {
        throw new Error('no');
      }),
    ).toBeNull();
    expect(await post('foreign', () => undefined, { ...agentA, teamIds: ['team-b'] })).toBeNull();
    expect([await seqOf(), await priorityOf()]).toEqual([before, 'normal']);
    expect(await db.query("SELECT 1 FROM outbox WHERE event_id IN ('probe:refused', 'probe:foreign')")).toEqual([]);

    const seen: unknown[][] = [];
    const posted = await post('ok', (results) => void seen.push(results));
    expect(posted!.map((message) => [message.seq, message.text])).toEqual([
      [before + 1, 'ok one'],
      [before + 2, 'ok two'],
    ]);
    expect(seen).toEqual([[[{ seven: 7 }]]]);
    expect([await seqOf(), await priorityOf()]).toEqual([before + 2, 'high']);
    const events = (await db.query("SELECT subject FROM outbox WHERE event_id IN ('probe:ok', ?, ?)", [
      `message:${posted![0]!.id}`,
      `message:${posted![1]!.id}`,
    ])) as Array<{ subject: string }>;
    expect(events.map((event) => event.subject).sort()).toEqual([
      'sb.evt.conversation.message_created',
      'sb.evt.conversation.message_created',
      'sb.evt.conversation.probe_posted',
    ]);
  });
});
