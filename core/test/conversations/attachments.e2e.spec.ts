import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, type TestApp } from '../harness/test-app.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { AttachmentsService } from '../../src/conversations/attachments/attachments.service.js';
import { LocalEncryptedStorage } from '../../src/conversations/attachments/attachment-storage.js';
import { ConversationRow } from '../../src/conversations/entities/conversation.entity.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { CONVERSATIONS_PORT, type ConversationsPort } from '../../src/platform/plugin-host/conversations.port.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(600)]);
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(400)]);
const MAX_BYTES = 4096;

interface Upload {
  status: number;
  body: {
    id: string;
    name: string;
    contentType: string;
    size: number;
    sha256: string;
    url: string;
    messageId: string | null;
    error?: { code: string; details?: Record<string, unknown> };
  };
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('conversation attachments on %s', (_name, backend) => {
  let app: TestApp;
  let admin: Record<string, string>;
  let agentA: Record<string, string>;
  let agentB: Record<string, string>;
  let conversationA: string;
  let contactA: string;
  let inbox: string;

  const json = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  const upload = async (headers: Record<string, string>, conversationId: string, bytes: Buffer, name: string, type: string): Promise<Upload> => {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), name);
    const response = await fetch(`${app.url}/api/v1/conversations/${conversationId}/attachments`, { method: 'POST', headers, body: form });
    return { status: response.status, body: (await response.json()) as Upload['body'] };
  };

  const download = (headers: Record<string, string>, id: string) => fetch(`${app.url}/api/v1/attachments/${id}/content`, { headers });
  const encryptedPath = (id: string) => app.app.get(LocalEncryptedStorage).locate(`${id.slice(0, 2)}/${id}`);

  beforeAll(async () => {
    app = await startTestApp({ env: { ...(await backend.env()), SWITCHBOARD_ATTACHMENT_MAX_BYTES: String(MAX_BYTES) } });
    admin = await app.authHeaders({ roles: ['admin'], sub: 'att-admin' });
    agentA = await app.authHeaders({ roles: ['agent'], teamIds: ['team-att-a'], sub: 'att-agent-a' });
    agentB = await app.authHeaders({ roles: ['agent'], teamIds: ['team-att-b'], sub: 'att-agent-b' });
    inbox = (await json(admin, 'POST', '/api/v1/inboxes', { name: 'Files A', channel: 'api', teamId: 'team-att-a' })).body.id as string;
    const ingested = await app.app.get(ConversationsService).ingestInbound({
      inboxId: inbox,
      externalContact: { externalId: 'att-visitor', verified: false },
      idempotencyKey: 'att-1',
      text: 'my receipt is attached',
    });
    conversationA = ingested.conversation.id;
    contactA = ingested.contactId;
  });

  afterAll(async () => {
    await app?.close();
  });

  let pngId: string;

  it('uploads a file: type from the bytes, sanitised name, sha256, encrypted at rest', async () => {
    const response = await upload(agentA, conversationA, PNG, '../../etc/ré<ceipt>\u202e.png', 'image/png');
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      conversationId: conversationA,
      messageId: null,
      name: 'ré_ceipt_.png',
      contentType: 'image/png',
      size: PNG.length,
      sha256: createHash('sha256').update(PNG).digest('hex'),
    });
    pngId = response.body.id;
    expect(response.body.url).toBe(`/api/v1/attachments/${pngId}/content`);
    const stored = readFileSync(encryptedPath(pngId));
    expect(stored.subarray(0, 4).toString()).toBe('SBF1');
    expect(stored.includes(PNG.subarray(8, 40))).toBe(false);
  });

  it('attaches the upload to an agent message and to nothing else; a retry returns the original', async () => {
    const posted = await json(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, {
      text: 'here is the label',
      idempotencyKey: 'att-msg-1',
      attachments: [{ id: pngId }, { name: 'manual.pdf', contentType: 'application/pdf', size: 10, url: 'https://example.com/manual.pdf' }],
    });
    expect(posted.status).toBe(201);
    expect(posted.body.attachments).toEqual([
      { id: pngId, name: 'ré_ceipt_.png', contentType: 'image/png', size: PNG.length, sha256: createHash('sha256').update(PNG).digest('hex') },
      { name: 'manual.pdf', contentType: 'application/pdf', size: 10, url: 'https://example.com/manual.pdf' },
    ]);
    const retry = await json(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, {
      text: 'here is the label',
      idempotencyKey: 'att-msg-1',
      attachments: [{ id: pngId }],
    });
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(posted.body.id);
    const again = await json(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: 'again', attachments: [{ id: pngId }] });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('attachment_in_use');
    const unknown = await json(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, {
      text: 'ghost',
      private: true,
      attachments: [{ id: '00000000-0000-4000-8000-000000000000' }],
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('attachment_not_found');
    const listed = await json(agentA, 'GET', `/api/v1/conversations/${conversationA}/messages`);
    expect(listed.body.items.filter((message: { text: string }) => message.text === 'ghost')).toHaveLength(0);
    const meta = await json(agentA, 'GET', `/api/v1/attachments/${pngId}`);
    expect(meta.body.messageId).toBe(posted.body.id);
  });

  it('attaches an upload to an internal note', async () => {
    const file = await upload(agentA, conversationA, Buffer.from('serial: SN-123\nfirmware 2.1\n'), 'notes.txt', 'text/plain');
    expect(file.status).toBe(201);
    const note = await json(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, {
      text: '',
      private: true,
      attachments: [{ id: file.body.id }],
    });
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({ private: true, attachments: [{ id: file.body.id, name: 'notes.txt', contentType: 'text/plain' }] });
    // Channels (a web visitor opening a file) get the customer's files, never a note's.
    const port = app.app.get<ConversationsPort>(CONVERSATIONS_PORT);
    const notFound = { code: 'attachment_not_found' };
    await expect(port.readChannelAttachment({ inboxId: inbox, contactId: contactA, id: file.body.id })).rejects.toMatchObject(notFound);
    const reply = await port.readChannelAttachment({ inboxId: inbox, contactId: contactA, id: pngId });
    expect(Buffer.from(reply.dataBase64, 'base64').equals(PNG)).toBe(true);
    await expect(port.readChannelAttachment({ inboxId: inbox, contactId: 'someone-else', id: pngId })).rejects.toMatchObject(notFound);
    await expect(port.readChannelAttachment({ inboxId: 'other-inbox', contactId: contactA, id: pngId })).rejects.toMatchObject(notFound);
  });

  it('downloads as an agent of the team, never inline', async () => {
    const response = await download(agentA, pngId);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="r__ceipt_.png"; filename*=UTF-8''r%C3%A9_ceipt_.png`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain('sandbox');
    expect(Buffer.from(await response.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('hides attachments from an agent outside the team (404) and from anonymous callers (401)', async () => {
    const content = await download(agentB, pngId);
    expect(content.status).toBe(404);
    expect(((await content.json()) as { error: { code: string } }).error.code).toBe('attachment_not_found');
    const meta = await json(agentB, 'GET', `/api/v1/attachments/${pngId}`);
    expect(meta.status).toBe(404);
    const foreign = await upload(agentB, conversationA, PNG, 'x.png', 'image/png');
    expect(foreign.status).toBe(404);
    expect(foreign.body.error?.code).toBe('conversation_not_found');
    expect((await download({}, pngId)).status).toBe(401);
  });

  it('refuses files over the size limit with 413 attachment_too_large', async () => {
    const big = Buffer.concat([PDF, randomBytes(MAX_BYTES)]);
    const response = await upload(agentA, conversationA, big, 'big.pdf', 'application/pdf');
    expect(response.status).toBe(413);
    expect(response.body.error).toMatchObject({ code: 'attachment_too_large', details: { limitBytes: MAX_BYTES } });
  });

  it('refuses types off the allow-list with 415, whatever the client claims', async () => {
    const html = await upload(agentA, conversationA, Buffer.from('<!doctype html><script>alert(1)</script>'), 'page.html', 'text/html');
    expect(html.status).toBe(415);
    expect(html.body.error).toMatchObject({ code: 'attachment_type_not_allowed', details: { detected: 'text/html' } });
    const svg = await upload(agentA, conversationA, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), 'logo.png', 'image/png');
    expect(svg.status).toBe(415);
    expect(svg.body.error).toMatchObject({ code: 'attachment_type_not_allowed', details: { detected: 'image/svg+xml' } });
    const binary = await upload(agentA, conversationA, Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]), 'setup.exe', 'application/octet-stream');
    expect(binary.status).toBe(415);
    expect(binary.body.error?.code).toBe('attachment_type_not_allowed');
  });

  it('refuses bytes that contradict the declared type (415 attachment_type_mismatch) and trusts the bytes when no type is declared', async () => {
    const mismatch = await upload(agentA, conversationA, PDF, 'photo.png', 'image/png');
    expect(mismatch.status).toBe(415);
    expect(mismatch.body.error).toMatchObject({ code: 'attachment_type_mismatch', details: { declared: 'image/png', detected: 'application/pdf' } });
    const sniffed = await upload(agentA, conversationA, PDF, 'invoice.html', 'application/octet-stream');
    expect(sniffed.status).toBe(201);
    expect(sniffed.body).toMatchObject({ contentType: 'application/pdf', name: 'invoice.html.pdf' });
  });

  it('answers 400 with a code for requests without a file', async () => {
    const notMultipart = await json(agentA, 'POST', `/api/v1/conversations/${conversationA}/attachments`, { file: 'x' });
    expect(notMultipart.status).toBe(400);
    expect(notMultipart.body.error.code).toBe('attachment_invalid');
    const form = new FormData();
    form.append('comment', 'no file here');
    const noFile = await fetch(`${app.url}/api/v1/conversations/${conversationA}/attachments`, { method: 'POST', headers: agentA, body: form });
    expect(noFile.status).toBe(400);
    expect(((await noFile.json()) as { error: { code: string } }).error.code).toBe('attachment_missing');
    const empty = await upload(agentA, conversationA, Buffer.alloc(0), 'empty.txt', 'text/plain');
    expect(empty.status).toBe(400);
    expect(empty.body.error?.code).toBe('attachment_invalid');
  });

  it('exports the contact’s files and erases them (rows, message metadata, bytes)', async () => {
    const forbidden = await json(agentA, 'GET', `/api/v1/contacts/${contactA}/attachments/export`);
    expect(forbidden.status).toBe(403);
    const exported = await json(admin, 'GET', `/api/v1/contacts/${contactA}/attachments/export`);
    expect(exported.status).toBe(200);
    const png = exported.body.items.find((item: { id: string }) => item.id === pngId);
    expect(Buffer.from(png.data, 'base64').equals(PNG)).toBe(true);
    expect(exported.body.items.length).toBeGreaterThanOrEqual(3);

    const path = encryptedPath(pngId);
    expect(existsSync(path)).toBe(true);
    const erased = await json(admin, 'DELETE', `/api/v1/contacts/${contactA}/attachments`);
    expect(erased.status).toBe(200);
    expect(erased.body.erased).toBe(exported.body.items.length);
    expect(existsSync(path)).toBe(false);
    expect((await download(agentA, pngId)).status).toBe(404);
    const messages = await json(agentA, 'GET', `/api/v1/conversations/${conversationA}/messages`);
    const labelled = messages.body.items.find((message: { text: string }) => message.text === 'here is the label');
    expect(labelled.attachments).toEqual([{ name: 'manual.pdf', contentType: 'application/pdf', size: 10, url: 'https://example.com/manual.pdf' }]);
    const audit = await json(admin, 'GET', `/api/v1/audit?action=contact.attachments_erased`);
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).toContain(contactA);
  });

  it('documents the endpoints in OpenAPI (multipart upload, binary download)', async () => {
    const document = (await (await fetch(`${app.url}/api/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(document.paths['/api/v1/conversations/{id}/attachments']!.post!.requestBody!.content)).toEqual(['multipart/form-data']);
    expect(Object.keys(document.paths['/api/v1/conversations/{id}/attachments']!.post!.responses)).toEqual(expect.arrayContaining(['201', '413', '415']));
    expect(document.paths['/api/v1/attachments/{id}/content']!.get).toBeDefined();
    expect(document.paths['/api/v1/contacts/{id}/attachments']!.delete).toBeDefined();
  });

  it('retention erases files of conversations resolved longer ago than privacy.retentionDays', async () => {
    const file = await upload(agentA, conversationA, PNG, 'old.png', 'image/png');
    expect(file.status).toBe(201);
    await json(agentA, 'POST', `/api/v1/conversations/${conversationA}/messages`, { text: 'old', attachments: [{ id: file.body.id }] });
    const service = app.app.get(AttachmentsService);
    expect(await service.applyRetention()).toBe(0);
    await app.app.get(ConversationsService).setStatus(conversationA, { status: 'resolved' });
    const dataSource = app.app.get<DataSource>(DATA_SOURCE);
    await dataSource.manager.update(ConversationRow, { id: conversationA }, { resolvedAt: new Date(Date.now() - 800 * 86_400_000) });
    expect(await service.applyRetention()).toBe(1);
    expect(existsSync(encryptedPath(file.body.id))).toBe(false);
    expect((await download(agentA, file.body.id)).status).toBe(404);
  });
});
