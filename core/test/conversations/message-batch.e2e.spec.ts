import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, type TestApp } from '../harness/test-app.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { MessageBatchWriter } from '../../src/conversations/message-batch.writer.js';
import { SYSTEM_ACTOR, type Actor } from '../../src/identity/actor.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
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
});
