import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { SYSTEM_ACTOR } from '../../src/identity/actor.js';

type Json = Record<string, unknown>;

describe.each(backends().map((backend) => [backend.name, backend] as const))('CSAT on %s', (_name, backend) => {
  let app: TestApp;
  let agent: Record<string, string>;

  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Json & { error?: { code: string } } };
  };
  const outbox = async (subject: string) =>
    (
      (await app.app.get<DataSource>(DATA_SOURCE).query(`SELECT envelope FROM outbox WHERE subject = ? ORDER BY seq`, [subject])) as Array<{ envelope: string }>
    ).map((row) => JSON.parse(row.envelope) as { data: Json });

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env() });
    agent = await app.authHeaders({ roles: ['agent'], teamIds: ['team-a'] });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('sends a link survey when a ticket is solved, stores one answer and emits sb.evt.csat.responded', async () => {
    const ticket = await call('POST', '/api/v1/tickets', agent, { subject: 'Survey me', type: 'question', teamId: 'team-a', requesterContactId: 'contact-1' });
    await call('POST', `/api/v1/tickets/${ticket.body.id as string}/transitions`, agent, { status: 'solved' });
    const [requested] = await waitFor(
      async () => {
        const events = await outbox('sb.evt.csat.requested');
        return events.length ? events : undefined;
      },
      10_000,
      'the survey link',
    );
    expect(requested.data).toMatchObject({ subjectType: 'ticket', subjectId: ticket.body.id, contactId: 'contact-1' });
    const token = String(requested.data.url).split('/').pop()!;

    const anonymous = {};
    const described = await call('GET', `/api/v1/csat/public/${token}`, anonymous);
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({ subjectType: 'ticket', answered: false });
    expect((await call('POST', `/api/v1/csat/public/${token}`, anonymous, { rating: 6 })).status).toBe(400);
    expect((await call('POST', `/api/v1/csat/public/${token}`, anonymous, { rating: 4, extra: 'x' })).status).toBe(400);
    expect((await call('POST', `/api/v1/csat/public/nope-not-a-real-token-000000`, anonymous, { rating: 4 })).status).toBe(404);
    const answered = await call('POST', `/api/v1/csat/public/${token}`, anonymous, { rating: 4, comment: 'Quick & friendly <3 👍' });
    expect(answered.status).toBe(200);
    const again = await call('POST', `/api/v1/csat/public/${token}`, anonymous, { rating: 1 });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('csat_already_answered');

    const responded = await outbox('sb.evt.csat.responded');
    expect(responded).toHaveLength(1);
    expect(responded[0].data).toMatchObject({ subjectType: 'ticket', subjectId: ticket.body.id, rating: 4, teamId: 'team-a', hasComment: true });
    const list = await call('GET', `/api/v1/csat/surveys?subjectId=${ticket.body.id as string}`, agent);
    expect(list.body.items).toEqual([expect.objectContaining({ status: 'answered', rating: 4, comment: 'Quick & friendly <3 👍' })]);
    const other = await call('GET', `/api/v1/csat/surveys`, await app.authHeaders({ roles: ['agent'], teamIds: ['team-b'] }));
    expect(other.body.items).toEqual([]);
  });

  it('posts a 1–5 survey into a resolved conversation and takes the answer from a button press', async () => {
    const conversations = app.app.get(ConversationsService);
    const inbox = await conversations.createInbox({ name: 'Chat', channel: 'webchat', teamId: 'team-a' });
    const contact = { externalId: 'visitor-1', verified: false, name: 'Ann' };
    const first = await conversations.ingestInbound({ inboxId: inbox.id, externalContact: contact, idempotencyKey: 'm1', text: 'Hi' });
    await conversations.setStatus(first.conversation.id, { status: 'resolved' }, SYSTEM_ACTOR);
    const survey = await waitFor(
      async () => {
        const messages = await conversations.listMessages(first.conversation.id, { afterSeq: 0, limit: 50 });
        return messages.find((m) => String((m.content as { buttons?: Array<{ value: string }> } | null)?.buttons?.[0]?.value ?? '').startsWith('csat:'));
      },
      10_000,
      'the survey message',
    );
    const buttons = (survey.content as { buttons: Array<{ value: string }> }).buttons;
    expect(buttons).toHaveLength(5);
    await conversations.ingestInbound({ inboxId: inbox.id, externalContact: contact, idempotencyKey: 'm2', text: buttons[4].value });
    await waitFor(
      async () => (await outbox('sb.evt.csat.responded')).some((e) => e.data.subjectId === first.conversation.id && e.data.rating === 5),
      10_000,
      'the answer',
    );
  });
});
