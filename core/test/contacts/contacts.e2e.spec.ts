import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { ContactsService } from '../../src/contacts/contacts.service.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { SYSTEM_ACTOR } from '../../src/identity/actor.js';

interface Contact {
  id: string;
  name: string | null;
  emails: Array<{ value: string; verified: boolean }>;
  phones: Array<{ value: string; verified: boolean }>;
  status: string;
  mergedIntoId: string | null;
  identities: Array<{ channel: string; externalId: string; verified: boolean }>;
  tags: string[];
  attributes: Record<string, unknown>;
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('contacts on %s', (_name, backend) => {
  let app: TestApp;
  let db: DataSource;
  let conversations: ConversationsService;
  let contacts: ContactsService;
  let admin: Record<string, string>;
  let agentA: Record<string, string>;
  let inboxes: { chat: string; email: string; whatsapp: string };

  const call = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env() });
    db = app.app.get(DATA_SOURCE);
    conversations = app.app.get(ConversationsService);
    contacts = app.app.get(ContactsService);
    admin = await app.authHeaders({ roles: ['admin'], sub: 'contacts-admin' });
    agentA = await app.authHeaders({ roles: ['agent'], teamIds: ['team-a'], sub: 'agent-a' });
    inboxes = {
      chat: (await conversations.createInbox({ name: 'Chat', channel: 'webchat', teamId: 'team-a' })).id,
      email: (await conversations.createInbox({ name: 'Mail', channel: 'email', teamId: 'team-a' })).id,
      whatsapp: (await conversations.createInbox({ name: 'WhatsApp', channel: 'whatsapp', teamId: 'team-a' })).id,
    };
  });

  afterAll(async () => {
    await app?.close();
  });

  it('merges explicitly and keeps all history: conversations, messages, identities, tombstone, audit', async () => {
    const chat = await conversations.ingestInbound({
      inboxId: inboxes.chat,
      externalContact: { externalId: 'visitor-77', verified: false, name: 'Lin Wei' },
      idempotencyKey: 'c1',
      text: 'my order is late',
    });
    await conversations.ingestInbound({
      inboxId: inboxes.chat,
      externalContact: { externalId: 'visitor-77', verified: false },
      idempotencyKey: 'c2',
      text: 'order 1234',
    });
    const mail = await conversations.ingestInbound({
      inboxId: inboxes.email,
      externalContact: { externalId: 'lin.wei@example.com', verified: true, name: 'Wei Lin' },
      idempotencyKey: 'e1',
      text: 'following up by email',
    });
    expect(mail.contactId).not.toBe(chat.contactId);

    const merged = await call(agentA, 'POST', `/api/v1/contacts/${mail.contactId}/merge`, { mergedId: chat.contactId });
    expect(merged.status).toBe(200);
    const survivor = merged.body as Contact;
    expect(survivor.identities.map((identity) => identity.channel).sort()).toEqual(['email', 'webchat']);
    expect(survivor.emails).toEqual([{ value: 'lin.wei@example.com', verified: true }]);
    expect(survivor.name).toBe('Wei Lin');

    const tombstone = (await call(agentA, 'GET', `/api/v1/contacts/${chat.contactId}`)).body as Contact;
    expect(tombstone).toMatchObject({ status: 'merged', mergedIntoId: mail.contactId, name: 'Lin Wei' });

    // History spans both channels immediately (tombstones are followed) …
    const history = await call(agentA, 'GET', `/api/v1/contacts/${mail.contactId}/conversations`);
    expect(history.body.items.map((item: { id: string }) => item.id).sort()).toEqual([chat.conversation.id, mail.conversation.id].sort());
    const timeline = await call(agentA, 'GET', `/api/v1/contacts/${mail.contactId}/messages`);
    expect(timeline.body.items.map((item: { text: string }) => item.text).sort()).toEqual(['following up by email', 'my order is late', 'order 1234']);
    // … and the conversations themselves are re-pointed through sb.evt.contact.merged.
    await waitFor(async () => (await conversations.get(chat.conversation.id)).contactId === mail.contactId, 15_000, 'conversation re-pointed');

    // The webchat visitor keeps landing on the survivor.
    const next = await conversations.ingestInbound({
      inboxId: inboxes.chat,
      externalContact: { externalId: 'visitor-77', verified: false },
      idempotencyKey: 'c3',
      text: 'still there?',
    });
    expect(next.contactId).toBe(mail.contactId);
    expect(next.conversation.id).toBe(chat.conversation.id);

    const audit = await db.query(`SELECT action, object_id FROM audit_log WHERE action = 'contact.merged'`);
    expect(audit).toEqual([expect.objectContaining({ object_id: chat.contactId })]);
    const views = await db.query(`SELECT object_id FROM audit_log WHERE action = 'contact.viewed' AND object_id = ?`, [chat.contactId]);
    expect(views.length).toBeGreaterThanOrEqual(1);

    const again = await call(agentA, 'POST', `/api/v1/contacts/${mail.contactId}/merge`, { mergedId: chat.contactId });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('contact_merge_invalid');
  });

  it('merges automatically only on verified identifiers', async () => {
    // Unverified: same email, no merge.
    const chatA = await contacts.resolveIdentity({ channel: 'webchat', externalId: 'anon-1', verified: false, email: 'sam@example.com' });
    const chatB = await contacts.resolveIdentity({ channel: 'webchat', externalId: 'anon-2', verified: false, email: 'sam@example.com' });
    expect(chatB.contact.id).not.toBe(chatA.contact.id);
    // A verified email identity does not absorb contacts that only claimed the email.
    const mail = await contacts.resolveIdentity({ channel: 'email', externalId: 'sam@example.com', verified: true });
    expect([chatA.contact.id, chatB.contact.id]).not.toContain(mail.contact.id);
    expect((await contacts.get(chatA.contact.id)).status).toBe('active');

    // Verified phone on WhatsApp, then a verified identity elsewhere with the same phone and email: one contact.
    const whatsapp = await conversations.ingestInbound({
      inboxId: inboxes.whatsapp,
      externalContact: { externalId: '+86 138-0013-8000', verified: true },
      idempotencyKey: 'w1',
      text: 'hi',
    });
    const verifiedElsewhere = await contacts.resolveIdentity({ channel: 'sms', externalId: '+8613800138000', verified: true, email: 'sam@example.com' });
    // Same verified phone as WhatsApp and same verified email as the mail contact: all fold into the oldest (the mail contact).
    const survivorId = verifiedElsewhere.contact.id;
    expect(survivorId).toBe(mail.contact.id);
    const loser = survivorId === mail.contact.id ? whatsapp.contactId : mail.contact.id;
    expect(await contacts.get(loser)).toMatchObject({ status: 'merged', mergedIntoId: survivorId });
    const survivor = await contacts.get(survivorId);
    expect(survivor.identities.map((identity) => identity.channel).sort()).toEqual(['email', 'sms', 'whatsapp']);
    // The unverified claimants are untouched.
    expect((await contacts.get(chatA.contact.id)).status).toBe('active');
    expect((await contacts.get(chatB.contact.id)).status).toBe('active');
    // A reply addressed to the merged contact goes to the survivor, which holds the identities now.
    const followed = await contacts.recipient(loser, 'whatsapp');
    expect(followed).toEqual(await contacts.recipient(survivorId, 'whatsapp'));
    expect(followed?.externalId).toBe('+86 138-0013-8000');
    const merges = await db.query(`SELECT automatic FROM contact_merges WHERE merged_id = ?`, [loser]);
    expect(merges.map((row: { automatic: unknown }) => Boolean(Number(row.automatic)))).toEqual([true]);
  });

  it('gives a reply its recipient: name, the primary email and phone, and the identity on that channel only', async () => {
    const { contact } = await contacts.resolveIdentity({
      channel: 'webchat',
      externalId: 'rcpt-web-1',
      verified: false,
      name: 'Ada Lovelace',
      email: 'ada@example.org',
      phone: '+44 20 7946 0018',
    });
    expect(await contacts.recipient(contact.id, 'webchat')).toEqual({
      name: 'Ada Lovelace',
      email: 'ada@example.org',
      phone: contact.phones[0]!.value,
      externalId: 'rcpt-web-1',
    });
    // No identity on that channel: the profile only.
    expect(await contacts.recipient(contact.id, 'email')).toEqual({ name: 'Ada Lovelace', email: 'ada@example.org', phone: contact.phones[0]!.value });
    // A verified email comes before an unverified one, whatever their order.
    const updated = await contacts.update(SYSTEM_ACTOR, contact.id, {
      emails: [
        { value: 'ada@example.org', verified: false },
        { value: 'ada@verified.example', verified: true },
      ],
    });
    expect(updated.emails.map((point) => point.value)).toEqual(['ada@example.org', 'ada@verified.example']);
    expect((await contacts.recipient(contact.id, 'webchat'))?.email).toBe('ada@verified.example');
    expect(await contacts.recipient('00000000-0000-4000-8000-000000000000', 'webchat')).toBeNull();
  });

  it('searches by name, email, phone and identifier, and stores PII encrypted', async () => {
    const created = await call(agentA, 'POST', '/api/v1/contacts', {
      name: 'Margaret Hamilton',
      emails: [{ value: 'Margaret@Apollo.example' }],
      phones: [{ value: '+1 (555) 010-2030' }],
      tags: ['vip', 'space'],
      vip: true,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await call(agentA, 'POST', `/api/v1/contacts/${id}/identities`, { channel: 'telegram', externalId: 'mh_apollo' });
    const find = async (query: string) => (await call(agentA, 'GET', `/api/v1/contacts?${query}`)).body.items.map((item: Contact) => item.id);
    expect(await find('q=hamilton')).toEqual([id]);
    expect(await find('q=MARGARET%20hamilton')).toEqual([id]);
    expect(await find('q=margaret%40apollo.example')).toEqual([id]);
    expect(await find('email=MARGARET@apollo.example')).toEqual([id]);
    expect(await find(`phone=${encodeURIComponent('+15550102030')}`)).toEqual([id]);
    expect(await find('q=%2B1%20555%20010%202030')).toEqual([id]);
    expect(await find('identifier=mh_apollo&channel=telegram')).toEqual([id]);
    expect(await find('q=mh_apollo')).toEqual([id]);
    expect(await find('q=hamil')).toEqual([]);
    expect(await find('tag=space&vip=true')).toEqual([id]);
    const raw =
      JSON.stringify(await db.query('SELECT * FROM contacts WHERE id = ?', [id])) + JSON.stringify(await db.query('SELECT * FROM contact_identities'));
    for (const secret of ['Hamilton', 'apollo.example', '5550102030', 'mh_apollo']) expect(raw).not.toContain(secret);

    // Every list is audited as a PII read: which filters were used and whose contacts were shown, never the search terms.
    const listed = await db.query(`SELECT actor_id, object_type, details FROM audit_log WHERE action = 'contact.listed' ORDER BY seq`);
    const byEmail = listed.find((row: { details: string }) => JSON.parse(row.details).filters.includes('email'));
    expect(byEmail).toMatchObject({ object_type: 'contact' });
    expect(JSON.parse(byEmail.details)).toEqual({ filters: ['email'], count: 1, contactIds: [id] });
    const auditText = JSON.stringify(listed);
    for (const secret of ['hamilton', 'apollo.example', '5550102030', 'mh_apollo', 'MARGARET']) expect(auditText).not.toContain(secret);

    const bad = await call(agentA, 'GET', '/api/v1/contacts?sort=name');
    expect(bad.status).toBe(400);
    const unknown = await call(agentA, 'POST', '/api/v1/contacts', { name: 'x', nickname: 'y' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('nickname');
  });

  it('validates custom attributes against the admin-defined schema', async () => {
    expect((await call(admin, 'PUT', '/api/v1/contact-attributes/plan', { label: 'Plan', type: 'enum', options: ['free', 'pro'] })).status).toBe(200);
    expect((await call(admin, 'PUT', '/api/v1/contact-attributes/seats', { label: 'Seats', type: 'number' })).status).toBe(200);
    expect((await call(agentA, 'PUT', '/api/v1/contact-attributes/x', { label: 'X', type: 'string' })).status).toBe(403);
    expect((await call(admin, 'PUT', '/api/v1/contact-attributes/bad', { label: 'Bad', type: 'color' })).status).toBe(400);
    const ok = await call(agentA, 'POST', '/api/v1/contacts', { name: 'Attr Person', attributes: { plan: 'pro', seats: 5 } });
    expect(ok.status).toBe(201);
    expect(ok.body.attributes).toEqual({ plan: 'pro', seats: 5 });
    const wrongType = await call(agentA, 'PATCH', `/api/v1/contacts/${ok.body.id}`, { attributes: { seats: 'five' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.code).toBe('contact_attribute_invalid');
    const unknown = await call(agentA, 'PATCH', `/api/v1/contacts/${ok.body.id}`, { attributes: { shoeSize: 44 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('contact_attribute_unknown');
    const removed = await call(agentA, 'PATCH', `/api/v1/contacts/${ok.body.id}`, { attributes: { seats: null } });
    expect(removed.body.attributes).toEqual({ plan: 'pro' });
  });

  it('hides other teams’ contacts with 404', async () => {
    const teamB = await call(admin, 'POST', '/api/v1/contacts', { name: 'Team B Customer', teamId: 'team-b' });
    const id = teamB.body.id as string;
    expect((await call(agentA, 'GET', `/api/v1/contacts/${id}`)).status).toBe(404);
    expect((await call(agentA, 'PATCH', `/api/v1/contacts/${id}`, { vip: true })).status).toBe(404);
    expect((await call(agentA, 'GET', `/api/v1/contacts/${id}/conversations`)).status).toBe(404);
    expect((await call(agentA, 'GET', `/api/v1/contacts/${id}/messages`)).status).toBe(404);
    const mine = (await call(agentA, 'POST', '/api/v1/contacts', { name: 'Mine' })).body.id as string;
    expect((await call(agentA, 'POST', `/api/v1/contacts/${mine}/merge`, { mergedId: id })).status).toBe(404);
    expect((await call(agentA, 'GET', '/api/v1/contacts?q=customer')).body.items).toEqual([]);
    expect((await call(admin, 'GET', `/api/v1/contacts/${id}`)).status).toBe(200);
  });
});
