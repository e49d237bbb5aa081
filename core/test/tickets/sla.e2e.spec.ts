import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { backends, MYSQL_BACKEND, mysqlAvailable, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { ManualClock } from '../../src/platform/clock/clock.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';

type Json = Record<string, unknown>;

function client(app: TestApp, headers: Record<string, string>) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Json & { error?: { code: string } } };
  };
}

async function count(app: TestApp, sql: string, params: unknown[]): Promise<number> {
  const rows = (await app.app.get<DataSource>(DATA_SOURCE).query(sql, params)) as Array<{ n: number | string }>;
  return Number(rows[0].n);
}

const weekdays = { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']], wed: [['09:00', '17:00']], thu: [['09:00', '17:00']], fri: [['09:00', '17:00']] };

describe.each(backends().map((backend) => [backend.name, backend] as const))('SLA on %s', (_name, backend) => {
  let app: TestApp;
  const clock = new ManualClock(new Date('2026-01-09T15:00:00Z')); // Friday 16:00 in Berlin
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env(), clock });
    api = client(app, await app.authHeaders({ roles: ['admin'] }));
  });

  afterAll(async () => {
    await app?.close();
  });

  it('rejects invalid calendars and policies', async () => {
    const calendar = await api('POST', '/api/v1/sla/calendars', { name: 'x', timeZone: 'Mars/Base', hours: weekdays });
    expect(calendar.status).toBe(400);
    expect(calendar.body.error?.code).toBe('sla_calendar_invalid');
    const policy = await api('POST', '/api/v1/sla/policies', { name: 'x', targets: {} });
    expect(policy.status).toBe(400);
    const unknown = await api('POST', '/api/v1/sla/policies', { name: 'x', targets: { resolutionMinutes: 5, bogus: 1 } });
    expect(unknown.status).toBe(400);
  });

  it('runs across a weekend and a holiday, pauses while pending, warns, breaches once and escalates', async () => {
    const calendar = await api('POST', '/api/v1/sla/calendars', {
      name: 'Berlin office',
      timeZone: 'Europe/Berlin',
      hours: weekdays,
      holidays: ['2026-01-12'],
    });
    expect(calendar.status).toBe(201);
    const policy = await api('POST', '/api/v1/sla/policies', {
      name: 'High priority',
      conditions: { priorities: ['high', 'urgent'] },
      targets: { resolutionMinutes: 240 },
      warningMinutes: 30,
      calendarId: calendar.body.id,
      escalation: { setPriority: 'urgent', note: 'SLA breached: escalated' },
    });
    expect(policy.status).toBe(201);

    const ticket = await api('POST', '/api/v1/tickets', { subject: 'Line down', type: 'incident', priority: 'high' });
    expect(ticket.body.slaPolicyId).toBe(policy.body.id);
    const id = ticket.body.id as string;
    const sla = async () => ((await api('GET', `/api/v1/tickets/${id}/sla`)).body.clocks as Array<Json>).find((c) => c.metric === 'resolution')!;
    // 1 h on Friday, weekend and Monday (holiday) skipped, 3 h on Tuesday → Tuesday 12:00 Berlin.
    expect(await sla()).toMatchObject({ state: 'running', dueAt: '2026-01-13T11:00:00.000Z', targetMinutes: 240 });

    clock.set(new Date('2026-01-13T09:00:00Z')); // Tuesday 10:00 Berlin: 2 h used
    expect((await api('POST', `/api/v1/tickets/${id}/transitions`, { status: 'pending' })).status).toBe(200);
    expect(await sla()).toMatchObject({ state: 'paused', elapsedMinutes: 120, dueAt: null });

    clock.set(new Date('2026-01-13T13:00:00Z')); // 14:00 Berlin: resume with 2 h left
    expect((await api('POST', `/api/v1/tickets/${id}/transitions`, { status: 'open' })).status).toBe(200);
    expect(await sla()).toMatchObject({ state: 'running', elapsedMinutes: 120, dueAt: '2026-01-13T15:00:00.000Z' });

    const history = async () => ((await api('GET', `/api/v1/tickets/${id}/history?limit=200`)).body.items as Array<{ action: string }>).map((h) => h.action);
    clock.set(new Date('2026-01-13T14:31:00Z')); // inside the 30-minute warning window
    await waitFor(async () => (await history()).includes('sla_warning'), 10_000, 'the SLA warning');
    expect((await history()).includes('sla_breached')).toBe(false);

    clock.set(new Date('2026-01-13T15:00:01Z'));
    await waitFor(async () => (await history()).includes('sla_breached'), 10_000, 'the SLA breach');
    await waitFor(async () => (await api('GET', `/api/v1/tickets/${id}`)).body.priority === 'urgent', 10_000, 'escalation');
    expect(await sla()).toMatchObject({ breached: true, breachedAt: '2026-01-13T15:00:00.000Z' });
    const comments = await api('GET', `/api/v1/tickets/${id}/comments`);
    expect(comments.body.items).toEqual([expect.objectContaining({ private: true, body: 'SLA breached: escalated', authorType: 'system' })]);

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await history()).filter((a) => a === 'sla_breached')).toHaveLength(1);
    expect(await count(app, `SELECT COUNT(*) AS n FROM outbox WHERE subject = ?`, ['sb.evt.ticket.sla_breached'])).toBe(1);
    expect(await count(app, `SELECT COUNT(*) AS n FROM outbox WHERE subject = ?`, ['sb.evt.ticket.sla_warning'])).toBe(1);

    // Solving achieves the resolution clock; no timers remain.
    expect((await api('POST', `/api/v1/tickets/${id}/transitions`, { status: 'solved' })).status).toBe(200);
    expect(await sla()).toMatchObject({ state: 'achieved', breached: true });
  });

  it('first response is achieved by a public agent reply, not by an internal note', async () => {
    clock.set(new Date('2026-01-14T08:00:00Z'));
    await api('POST', '/api/v1/sla/policies', {
      name: 'Questions',
      position: 1,
      conditions: { types: ['question'] },
      targets: { firstResponseMinutes: 60, nextResponseMinutes: 30 },
    });
    const ticket = await api('POST', '/api/v1/tickets', { subject: 'How do I…', type: 'question' });
    const id = ticket.body.id as string;
    await api('POST', `/api/v1/tickets/${id}/comments`, { body: 'note', private: true });
    const clocks = async () => (await api('GET', `/api/v1/tickets/${id}/sla`)).body.clocks as Array<Json>;
    expect((await clocks()).find((c) => c.metric === 'first_response')).toMatchObject({ state: 'running' });
    clock.advance(10 * 60_000);
    await api('POST', `/api/v1/tickets/${id}/comments`, { body: 'Hello!' });
    expect((await clocks()).find((c) => c.metric === 'first_response')).toMatchObject({ state: 'achieved', elapsedMinutes: 10, breached: false });
  });
});

describe('SLA timers with two core instances on one MariaDB + NATS', () => {
  const run = mysqlAvailable() ? it : it.skip;
  run('fire exactly once', async () => {
    const clock = new ManualClock(new Date('2026-02-02T10:00:00Z'));
    const env = await MYSQL_BACKEND.env();
    const first = await startTestApp({ env, clock });
    const second = await startTestApp({ env, clock });
    try {
      const api = client(first, await first.authHeaders({ roles: ['admin'] }));
      await api('POST', '/api/v1/sla/policies', { name: '24x7', targets: { firstResponseMinutes: 1 }, warningMinutes: 0 });
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await api('POST', '/api/v1/tickets', { subject: `t${i}`, type: 'incident' })).body.id as string);
      clock.advance(2 * 60_000);
      await waitFor(
        async () => (await count(first, `SELECT COUNT(*) AS n FROM ticket_history WHERE action = 'sla_breached'`, [])) >= ids.length,
        15_000,
        'all breaches',
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await count(first, `SELECT COUNT(*) AS n FROM ticket_history WHERE action = 'sla_breached'`, [])).toBe(ids.length);
      expect(await count(first, `SELECT COUNT(*) AS n FROM outbox WHERE subject = 'sb.evt.ticket.sla_breached'`, [])).toBe(ids.length);
      const byInstance = (await first.app
        .get<DataSource>(DATA_SOURCE)
        .query(
          `SELECT claimed_by AS who, COUNT(*) AS n FROM scheduler_timers WHERE kind = 'ticket.sla.breach' AND fired_at IS NOT NULL GROUP BY claimed_by`,
        )) as Array<{ who: string; n: number }>;
      expect(byInstance.reduce((sum, row) => sum + Number(row.n), 0)).toBe(ids.length);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
