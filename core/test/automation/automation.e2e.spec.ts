import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';

type Json = Record<string, unknown>;

describe.each(backends().map((backend) => [backend.name, backend] as const))('automation on %s', (_name, backend) => {
  let app: TestApp;
  let admin: Record<string, string>;
  let agentA: Record<string, string>;
  let agentB: Record<string, string>;
  let hookServer: Server;
  let hookPort = 0;
  const hookCalls: string[] = [];

  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Json & { error?: { code: string; message: string } } };
  };
  const query = async (sql: string, params: unknown[] = []) =>
    (await app.app.get<DataSource>(DATA_SOURCE).query(sql, params)) as Array<Record<string, unknown>>;

  beforeAll(async () => {
    hookServer = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        hookCalls.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
    hookPort = (hookServer.address() as { port: number }).port;
    app = await startTestApp({ env: await backend.env() });
    admin = await app.authHeaders({ roles: ['admin'] });
    agentA = await app.authHeaders({ roles: ['agent'], teamIds: ['team-a'], name: 'Alice Agent' });
    agentB = await app.authHeaders({ roles: ['agent'], teamIds: ['team-b'] });
  });

  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => hookServer?.close(resolve));
  });

  it('rejects malformed rules with 400, naming the problems', async () => {
    const badAction = await call('POST', '/api/v1/automation/rules', admin, {
      name: 'x',
      trigger: 'ticket.created',
      actions: [{ type: 'set_priority', value: 'mega', extra: 1 }],
    });
    expect(badAction.status).toBe(400);
    expect(badAction.body.error?.code).toBe('automation_invalid');
    expect(badAction.body.error?.message).toContain('extra');
    const badTrigger = await call('POST', '/api/v1/automation/rules', admin, {
      name: 'x',
      trigger: 'ticket.exploded',
      actions: [{ type: 'add_note', body: 'x' }],
    });
    expect(badTrigger.status).toBe(400);
    const badVar = await call('POST', '/api/v1/automation/canned-responses', agentA, { name: 'x', body: 'Hi {{contact.password}}' });
    expect(badVar.status).toBe(400);
    const forbidden = await call('POST', '/api/v1/automation/rules', agentA, {
      name: 'x',
      trigger: 'ticket.created',
      actions: [{ type: 'add_note', body: 'x' }],
    });
    expect(forbidden.status).toBe(403);
  });

  it('stops ping-pong rules and self-retriggering rules (loop protection)', async () => {
    const pingpong = { all: [{ field: 'ticket.subject', op: 'contains', value: 'pingpong' }] };
    const a = await call('POST', '/api/v1/automation/rules', admin, {
      name: 'high → urgent',
      trigger: 'ticket.updated',
      position: 1,
      conditions: { all: [...pingpong.all, { field: 'ticket.priority', op: 'eq', value: 'high' }] },
      actions: [{ type: 'set_priority', value: 'urgent' }],
    });
    expect(a.status).toBe(201);
    await call('POST', '/api/v1/automation/rules', admin, {
      name: 'urgent → high',
      trigger: 'ticket.updated',
      position: 2,
      conditions: { all: [...pingpong.all, { field: 'ticket.priority', op: 'eq', value: 'urgent' }] },
      actions: [{ type: 'set_priority', value: 'high' }],
    });
    await call('POST', '/api/v1/automation/rules', admin, {
      name: 'tag on every update',
      trigger: 'ticket.updated',
      position: 3,
      conditions: { all: [{ field: 'ticket.subject', op: 'contains', value: 'selfloop' }] },
      actions: [
        { type: 'set_tags', add: ['touched'] },
        { type: 'set_priority', value: 'low' },
      ],
    });

    const ping = await call('POST', '/api/v1/tickets', agentA, { subject: 'pingpong', type: 'task', teamId: 'team-a' });
    const self = await call('POST', '/api/v1/tickets', agentA, { subject: 'selfloop', type: 'task', teamId: 'team-a' });
    await call('PATCH', `/api/v1/tickets/${ping.body.id as string}`, agentA, { priority: 'high' });
    await call('PATCH', `/api/v1/tickets/${self.body.id as string}`, agentA, { description: 'poke' });

    const runsFor = async (id: string) => Number((await query(`SELECT COUNT(*) AS n FROM automation_runs WHERE object_id = ?`, [id]))[0].n);
    await waitFor(async () => (await runsFor(ping.body.id as string)) >= 2 && (await runsFor(self.body.id as string)) >= 1, 10_000, 'rule runs');
    await new Promise((resolve) => setTimeout(resolve, 800)); // let any (wrong) further rounds happen
    expect(await runsFor(ping.body.id as string)).toBe(2);
    expect(await runsFor(self.body.id as string)).toBe(1);
    const pingNow = await call('GET', `/api/v1/tickets/${ping.body.id as string}`, agentA);
    expect(pingNow.body.priority).toBe('high');
    const selfNow = await call('GET', `/api/v1/tickets/${self.body.id as string}`, agentA);
    expect(selfNow.body).toMatchObject({ tags: ['touched'], priority: 'low' });
    const history = await call('GET', `/api/v1/tickets/${ping.body.id as string}/history`, agentA);
    const updates = (history.body.items as Array<{ action: string; actorType: string }>).filter((h) => h.action === 'updated');
    expect(updates.map((h) => h.actorType)).toEqual(['agent', 'automation', 'automation']);
  });

  it('renders canned variables, applies macros and hides other teams’ macros as 404', async () => {
    const canned = await call('POST', '/api/v1/automation/canned-responses', agentA, {
      name: 'Ack',
      body: 'Hello, we got {{ticket.number}} ({{ticket.subject}}). — {{agent.name}} {{contact.name}}',
      teamId: 'team-a',
    });
    expect(canned.status).toBe(201);
    const ticket = await call('POST', '/api/v1/tickets', agentA, { subject: 'Printer <b>jam</b> {{agent.name}}', type: 'incident', teamId: 'team-a' });
    const rendered = await call('POST', `/api/v1/automation/canned-responses/${canned.body.id as string}/render`, agentA, { ticketId: ticket.body.id });
    expect(rendered.status).toBe(200);
    expect(rendered.body.text).toBe(`Hello, we got ${ticket.body.number as string} (Printer <b>jam</b> {{agent.name}}). — Alice Agent `);

    const macro = await call('POST', '/api/v1/automation/macros', admin, {
      name: 'Escalate',
      teamId: 'team-a',
      actions: [
        { type: 'set_priority', value: 'urgent' },
        { type: 'set_tags', add: ['escalated'] },
        { type: 'send_canned_reply', cannedResponseId: canned.body.id },
        { type: 'set_status', status: 'pending' },
      ],
    });
    expect(macro.status).toBe(201);
    const applied = await call('POST', `/api/v1/automation/macros/${macro.body.id as string}/apply`, agentA, { ticketId: ticket.body.id });
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({ priority: 'urgent', tags: ['escalated'], status: 'pending' });
    const comments = await call('GET', `/api/v1/tickets/${ticket.body.id as string}/comments`, agentA);
    expect((comments.body.items as Array<{ body: string; private: boolean }>)[0]).toMatchObject({ private: false });
    expect((comments.body.items as Array<{ body: string }>)[0].body).toContain(ticket.body.number as string);

    expect((await call('GET', `/api/v1/automation/macros/${macro.body.id as string}`, agentB)).status).toBe(404);
    expect((await call('POST', `/api/v1/automation/macros/${macro.body.id as string}/apply`, agentB, { ticketId: ticket.body.id })).status).toBe(404);
    expect((await call('GET', `/api/v1/automation/canned-responses/${canned.body.id as string}`, agentB)).status).toBe(404);
    const listB = await call('GET', '/api/v1/automation/canned-responses', agentB);
    expect(listB.body.items).toEqual([]);
  });

  it('refuses webhooks to loopback unless the host is allowed, then calls them', async () => {
    await call('POST', '/api/v1/automation/rules', admin, {
      name: 'hook',
      trigger: 'ticket.created',
      conditions: { all: [{ field: 'ticket.subject', op: 'starts_with', value: 'hook' }] },
      actions: [{ type: 'call_webhook', url: `http://127.0.0.1:${hookPort}/hook`, body: '{"number":"{{ticket.number}}","subject":"{{ticket.subject}}"}' }],
    });
    await call('POST', '/api/v1/tickets', admin, { subject: 'hook one', type: 'task' });
    await waitFor(
      async () => (await query(`SELECT status, last_error FROM automation_jobs WHERE kind = 'webhook'`)).some((j) => j.status === 'failed'),
      10_000,
      'the refused webhook',
    );
    expect(hookCalls).toHaveLength(0);
    const [job] = await query(`SELECT last_error FROM automation_jobs WHERE kind = 'webhook'`);
    expect(String(job.last_error)).toContain('private or loopback');

    const allow = await call('PUT', '/api/v1/settings/automation.webhookAllowedHosts', admin, { value: ['127.0.0.1'] });
    expect(allow.status).toBe(200);
    await call('POST', '/api/v1/tickets', admin, { subject: 'hook "two"', type: 'task' });
    await waitFor(() => hookCalls.length === 1, 10_000, 'the webhook call');
    expect(JSON.parse(hookCalls[0])).toMatchObject({ subject: 'hook "two"' });
  });
});
