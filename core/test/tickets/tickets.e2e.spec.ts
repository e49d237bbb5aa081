import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, type TestApp } from '../harness/test-app.js';

type Json = Record<string, unknown>;

describe.each(backends().map((backend) => [backend.name, backend] as const))('tickets on %s', (_name, backend) => {
  let app: TestApp;
  let agentA: Record<string, string>;
  let agentB: Record<string, string>;
  let admin: Record<string, string>;

  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Json & { error?: { code: string; message: string } } };
  };

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env() });
    agentA = await app.authHeaders({ roles: ['agent'], teamIds: ['team-a'] });
    agentB = await app.authHeaders({ roles: ['agent'], teamIds: ['team-b'] });
    admin = await app.authHeaders({ roles: ['admin'] });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('creates tickets with unique human-friendly numbers, also under concurrency', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call('POST', '/api/v1/tickets', agentA, { subject: `Printer ${i}`, type: 'incident', teamId: 'team-a' })),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const numbers = results.map((r) => r.body.number as string);
    expect(new Set(numbers).size).toBe(12);
    expect(numbers.every((n) => /^T-\d+$/.test(n))).toBe(true);
    const byNumber = await call('GET', `/api/v1/tickets/${numbers[0]}`, agentA);
    expect(byNumber.status).toBe(200);
    expect(byNumber.body).toMatchObject({ number: numbers[0], status: 'new', priority: 'normal', teamId: 'team-a' });
  });

  it('accepts only allowed status transitions; others are 409 ticket_invalid_transition', async () => {
    const created = await call('POST', '/api/v1/tickets', agentA, { subject: 'Lifecycle', type: 'question', teamId: 'team-a' });
    const id = created.body.id as string;
    const bad = await call('POST', `/api/v1/tickets/${id}/transitions`, agentA, { status: 'closed' });
    expect(bad.status).toBe(409);
    expect(bad.body.error?.code).toBe('ticket_invalid_transition');
    for (const status of ['open', 'pending', 'on_hold', 'open', 'solved', 'closed']) {
      const ok = await call('POST', `/api/v1/tickets/${id}/transitions`, agentA, { status });
      expect([status, ok.status]).toEqual([status, 200]);
      expect(ok.body.status).toBe(status);
    }
    const afterClosed = await call('POST', `/api/v1/tickets/${id}/transitions`, agentA, { status: 'open' });
    expect(afterClosed.status).toBe(409);
    expect(afterClosed.body.error?.code).toBe('ticket_invalid_transition');
    const history = await call('GET', `/api/v1/tickets/${id}/history`, agentA);
    expect((history.body.items as Array<{ action: string }>).filter((h) => h.action === 'status_changed')).toHaveLength(6);
  });

  it('rejects bad input with 400: unknown fields by name, bad enums, bad custom fields', async () => {
    const unknown = await call('POST', '/api/v1/tickets', agentA, { subject: 'x', type: 'question', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.code).toBe('validation_failed');
    expect(unknown.body.error?.message).toContain('colour');
    const badEnum = await call('POST', '/api/v1/tickets', agentA, { subject: 'x', type: 'rant' });
    expect(badEnum.status).toBe(400);
    const badStatus = await call('POST', '/api/v1/tickets/T-1/transitions', agentA, { status: 'done' });
    expect(badStatus.status).toBe(400);
    const nestedUnknown = await call('POST', '/api/v1/tickets', agentA, {
      subject: 'x',
      type: 'question',
      links: [{ kind: 'conversation', refId: 'c1', extra: 1 }],
    });
    expect(nestedUnknown.status).toBe(400);
    expect(nestedUnknown.body.error?.message).toContain('extra');

    const field = await call('POST', '/api/v1/ticket-fields', admin, { key: 'serial_no', label: 'Serial number', type: 'text' });
    expect(field.status).toBe(201);
    await call('POST', '/api/v1/ticket-fields', admin, { key: 'severity', label: 'Severity', type: 'select', options: ['s1', 's2'] });
    const wrongType = await call('POST', '/api/v1/tickets', agentA, { subject: 'x', type: 'question', customFields: { serial_no: 42, nope: 1 } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error?.code).toBe('ticket_custom_field_invalid');
    expect(wrongType.body.error?.message).toContain('nope');
    const good = await call('POST', '/api/v1/tickets', agentA, { subject: 'x', type: 'question', customFields: { serial_no: 'SN-1', severity: 's2' } });
    expect(good.status).toBe(201);
    expect(good.body.customFields).toEqual({ serial_no: 'SN-1', severity: 's2' });
  });

  it('stores SQL and HTML payloads verbatim', async () => {
    const subject = `'; DROP TABLE tickets; -- <script>alert(1)</script> 打印机坏了 🖨️`;
    const created = await call('POST', '/api/v1/tickets', agentA, { subject, type: 'question' });
    expect(created.status).toBe(201);
    const fetched = await call('GET', `/api/v1/tickets/${created.body.id as string}`, agentA);
    expect(fetched.body.subject).toBe(subject);
  });

  it('hides other teams’ tickets as 404 and filters lists by team scope', async () => {
    const secret = await call('POST', '/api/v1/tickets', agentB, { subject: 'Team B only', type: 'task', teamId: 'team-b' });
    const id = secret.body.id as string;
    for (const [method, path, body] of [
      ['GET', `/api/v1/tickets/${id}`, undefined],
      ['PATCH', `/api/v1/tickets/${id}`, { priority: 'high' }],
      ['POST', `/api/v1/tickets/${id}/transitions`, { status: 'open' }],
      ['POST', `/api/v1/tickets/${id}/comments`, { body: 'hi' }],
      ['GET', `/api/v1/tickets/${id}/sla`, undefined],
    ] as const) {
      const response = await call(method, path, agentA, body);
      expect([path, response.status]).toEqual([path, 404]);
      expect(response.body.error?.code).toBe('ticket_not_found');
    }
    const listA = await call('GET', '/api/v1/tickets?limit=100', agentA);
    expect((listA.body.items as Array<{ id: string }>).some((t) => t.id === id)).toBe(false);
    const listAdmin = await call('GET', `/api/v1/tickets?teamId=team-b`, admin);
    expect((listAdmin.body.items as Array<{ id: string }>).some((t) => t.id === id)).toBe(true);
    const forbiddenCreate = await call('POST', '/api/v1/tickets', agentA, { subject: 'x', type: 'task', teamId: 'team-b' });
    expect(forbiddenCreate.status).toBe(403);
  });

  it('paginates with cursors, filters and sorts on the allow-list only', async () => {
    for (let i = 0; i < 5; i++)
      await call('POST', '/api/v1/tickets', agentA, { subject: `page ${i}`, type: 'problem', priority: 'urgent', teamId: 'team-a', tags: ['Paging'] });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Json } = await call(
        'GET',
        `/api/v1/tickets?priority=urgent&type=problem&tag=paging&sort=number&order=asc&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        agentA,
      );
      expect(page.status).toBe(200);
      seen.push(...(page.body.items as Array<{ number: string }>).map((t) => t.number));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect([...seen].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)))).toEqual(seen);
    const badSort = await call('GET', '/api/v1/tickets?sort=subject', agentA);
    expect(badSort.status).toBe(400);
    const badCursor = await call('GET', '/api/v1/tickets?cursor=nope', agentA);
    expect(badCursor.status).toBe(400);
  });

  it('links, keeps internal notes apart from public replies, and manages followers', async () => {
    const created = await call('POST', '/api/v1/tickets', agentA, {
      subject: 'Linked',
      type: 'incident',
      teamId: 'team-a',
      links: [{ kind: 'conversation', refId: 'conv-1' }],
    });
    const id = created.body.id as string;
    const linked = await call('POST', `/api/v1/tickets/${id}/links`, agentA, { kind: 'device', refId: 'dev-9' });
    expect(linked.status).toBe(200);
    expect((linked.body.links as unknown[]).length).toBe(2);
    const again = await call('POST', `/api/v1/tickets/${id}/links`, agentA, { kind: 'device', refId: 'dev-9' });
    expect((again.body.links as unknown[]).length).toBe(2);
    await call('POST', `/api/v1/tickets/${id}/comments`, agentA, { body: 'internal', private: true });
    await call('POST', `/api/v1/tickets/${id}/comments`, agentA, { body: 'public' });
    const all = await call('GET', `/api/v1/tickets/${id}/comments`, agentA);
    expect((all.body.items as unknown[]).length).toBe(2);
    const publicOnly = await call('GET', `/api/v1/tickets/${id}/comments?includePrivate=false`, agentA);
    expect((publicOnly.body.items as Array<{ body: string }>).map((c) => c.body)).toEqual(['public']);
    const fetched = await call('GET', `/api/v1/tickets/${id}`, agentA);
    expect(fetched.body.firstRespondedAt).not.toBeNull();
    const followers = await call('PUT', `/api/v1/tickets/${id}/followers`, agentA, { add: ['u1', 'u2'], remove: ['u3'] });
    expect(followers.body.followers).toEqual(['u1', 'u2']);
  });
});
