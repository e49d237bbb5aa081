import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { ManualClock } from '../../src/platform/clock/clock.js';
import { UnitOfWork } from '../../src/platform/database/unit-of-work.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';

/**
 * A scripted week of conversations and tickets, replayed as the domain events the other
 * modules emit, with every expected figure computed by hand in the comments below.
 */
const day = (d: number, hh: number, mm = 0, ss = 0) => new Date(Date.UTC(2026, 10, 2 + d, hh, mm, ss)); // d=0 is Monday 2 Nov 2026

type Step = [Date, string, Record<string, unknown>];

function scriptedWeek(): Step[] {
  const conv = (id: string, contactId: string, teamId: string, channel: string) => ({
    conversationId: id,
    contactId,
    teamId,
    channel,
    inboxId: `inbox-${channel}`,
  });
  const c1 = conv('c1', 'k1', 't1', 'webchat');
  const c2 = conv('c2', 'k2', 't1', 'webchat');
  const c3 = conv('c3', 'k2', 't1', 'webchat');
  const c4 = conv('c4', 'k3', 't2', 'email');
  const c5 = conv('c5', 'k4', 't2', 'email');
  const msg = (base: object, id: string, direction: 'in' | 'out', authorType: string, authorId: string | null) => ({
    ...base,
    messageId: id,
    direction,
    authorType,
    authorId,
    private: false,
  });
  return [
    // c1: first response 300 s, second response 600 s, resolved after 3600 s, CSAT 5.
    [day(0, 9), 'conversation.created', c1],
    [day(0, 9), 'conversation.message_created', msg(c1, 'm1', 'in', 'contact', 'k1')],
    [day(0, 9, 5), 'conversation.assigned', { ...c1, agentId: 'a1' }],
    [day(0, 9, 5), 'conversation.message_created', msg(c1, 'm2', 'out', 'agent', 'a1')],
    [day(0, 9, 7), 'conversation.message_created', { ...msg(c1, 'm2n', 'out', 'agent', 'a1'), private: true }],
    [day(0, 9, 10), 'conversation.message_created', msg(c1, 'm3', 'in', 'contact', 'k1')],
    [day(0, 9, 20), 'conversation.message_created', msg(c1, 'm4', 'out', 'agent', 'a1')],
    [day(0, 10), 'conversation.resolved', c1],
    [day(0, 10), 'csat.requested', { surveyId: 's1', subjectType: 'conversation', subjectId: 'c1', contactId: 'k1', url: 'https://x/csat/1' }],
    [
      day(0, 10, 30),
      'csat.responded',
      {
        surveyId: 's1',
        subjectType: 'conversation',
        subjectId: 'c1',
        conversationId: 'c1',
        contactId: 'k1',
        teamId: 't1',
        agentId: 'a1',
        rating: 5,
        hasComment: false,
        sentAt: null,
        answeredAt: day(0, 10, 30).toISOString(),
      },
    ],
    // c2: the bot answers, hands over, agent's first response after 660 s, resolved after 3600 s; CSAT unanswered.
    [day(1, 10), 'conversation.created', c2],
    [day(1, 10), 'conversation.message_created', msg(c2, 'm5', 'in', 'contact', 'k2')],
    [day(1, 10, 0, 1), 'conversation.message_created', msg(c2, 'm6', 'out', 'bot', 'bot')],
    [day(1, 10, 1), 'bot.handed_over', { conversationId: 'c2' }],
    [day(1, 10, 11), 'conversation.assigned', { ...c2, agentId: 'a1' }],
    [day(1, 10, 11), 'conversation.message_created', msg(c2, 'm7', 'out', 'agent', 'a1')],
    [day(1, 11), 'conversation.resolved', c2],
    [day(1, 11), 'csat.requested', { surveyId: 's2', subjectType: 'conversation', subjectId: 'c2', contactId: 'k2', url: 'https://x/csat/2' }],
    // c4: response after 7200 s, resolved, reopened, resolved again Thu 09:00.
    [day(2, 12), 'conversation.created', c4],
    [day(2, 12), 'conversation.message_created', msg(c4, 'm8', 'in', 'contact', 'k3')],
    [day(2, 14), 'conversation.assigned', { ...c4, agentId: 'a2' }],
    [day(2, 14), 'conversation.message_created', msg(c4, 'm9', 'out', 'agent', 'a2')],
    [day(2, 15), 'conversation.resolved', c4],
    [day(3, 8), 'conversation.reopened', c4],
    [day(3, 9), 'conversation.resolved', c4],
    // c3: the same contact as c2 returns within 7 days (so c2 is not first-contact resolved); the bot resolves it alone.
    [day(3, 9), 'conversation.created', c3],
    [day(3, 9), 'conversation.message_created', msg(c3, 'm10', 'in', 'contact', 'k2')],
    [day(3, 9, 0, 2), 'conversation.message_created', msg(c3, 'm11', 'out', 'bot', 'bot')],
    [day(3, 9, 30), 'conversation.resolved', c3],
    // c5: unanswered.
    [day(4, 16), 'conversation.created', c5],
    [day(4, 16), 'conversation.message_created', msg(c5, 'm12', 'in', 'contact', 'k4')],
    // Tickets: T1 (t1) solved within SLA, T2 (t2) breached then solved.
    [day(0, 11), 'ticket.created', { ticketId: 'T1', teamId: 't1', assigneeId: 'a1' }],
    [day(1, 12), 'ticket.status_changed', { ticketId: 'T1', teamId: 't1', assigneeId: 'a1', from: 'open', to: 'solved' }],
    [day(1, 12), 'ticket.created', { ticketId: 'T2', teamId: 't2', assigneeId: 'a2' }],
    [day(2, 12), 'ticket.sla_breached', { ticketId: 'T2', teamId: 't2', assigneeId: 'a2', metric: 'resolution' }],
    [day(3, 12), 'ticket.status_changed', { ticketId: 'T2', teamId: 't2', assigneeId: 'a2', from: 'open', to: 'solved' }],
  ];
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('analytics on %s', (_name, backend) => {
  let app: TestApp;
  const clock = new ManualClock(day(0, 0));
  const range = `from=${day(0, 0).toISOString()}&to=${day(7, 0).toISOString()}`;
  let admin: Record<string, string>;

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env(), clock });
    admin = await app.authHeaders({ roles: ['admin'] });
    const uow = app.app.get(UnitOfWork);
    const steps = scriptedWeek();
    for (const [index, [at, subject, data]] of steps.entries()) {
      clock.set(at);
      await uow.run((tx) => tx.emit({ subject: `sb.evt.${subject}`, data, id: `script-${index}` }));
    }
    const dataSource = app.app.get<DataSource>(DATA_SOURCE);
    await waitFor(
      async () => {
        const [row] = (await dataSource.query(
          `SELECT COUNT(*) AS n FROM processed_events WHERE consumer LIKE 'analytics-%' AND event_id LIKE 'script-%'`,
        )) as Array<{ n: number | string }>;
        return Number(row!.n) === steps.length;
      },
      20_000,
      'analytics to consume the scripted week',
    );
    clock.set(day(15, 0)); // every FCR window has elapsed
  });

  afterAll(() => app?.close());

  async function report(query: string, headers = admin) {
    const response = await fetch(`${app.url}/api/v1/analytics/report?${range}&${query}`, { headers });
    return {
      status: response.status,
      body: (await response.json()) as {
        totals: Record<string, number | null>;
        rows: Array<Record<string, unknown> & { metrics: Record<string, number | null> }>;
      },
    };
  }

  it('computes the week totals by hand-checked definitions', async () => {
    const { status, body } = await report('groupBy=day');
    expect(status).toBe(200);
    expect(body.totals).toMatchObject({
      conversationsCreated: 5,
      conversationsResolved: 4,
      firstResponseSeconds: 2720, // (300 + 660 + 7200) / 3
      averageResponseSeconds: 2190, // (300 + 600 + 660 + 7200) / 4
      resolutionSeconds: 21150, // (3600 + 3600 + 1800 + 75600) / 4
      fcrRate: 0.5, // c1 and c3 yes; c2 (contact returned), c4 (reopened) no
      fcrEligible: 4,
      reopenRate: 0.25,
      csatAverage: 5,
      csatResponseRate: 0.5,
      botConversations: 2,
      containmentRate: 0.5,
      transferRate: 0.5,
      ticketsSolved: 2,
      slaAttainment: 0.5,
    });
    expect(body.rows.map((row) => [row.day, row.metrics.conversationsCreated])).toEqual([
      ['2026-11-02', 1],
      ['2026-11-03', 1],
      ['2026-11-04', 1],
      ['2026-11-05', 1],
      ['2026-11-06', 1],
    ]);
  });

  it('splits by team', async () => {
    const { body } = await report('groupBy=team');
    const byTeam = Object.fromEntries(body.rows.map((row) => [row.team, row.metrics]));
    expect(byTeam.t1).toMatchObject({
      conversationsCreated: 3,
      conversationsResolved: 3,
      firstResponseSeconds: 480,
      averageResponseSeconds: 520,
      resolutionSeconds: 3000,
      fcrRate: 0.6667,
      reopenRate: 0,
      slaAttainment: 1,
    });
    expect(byTeam.t2).toMatchObject({
      conversationsCreated: 2,
      conversationsResolved: 1,
      firstResponseSeconds: 7200,
      resolutionSeconds: 75600,
      fcrRate: 0,
      reopenRate: 1,
      csatAverage: null,
      containmentRate: null,
      slaAttainment: 0,
    });
  });

  it('measures in business hours when a calendar is set', async () => {
    const put = await fetch(`${app.url}/api/v1/settings/analytics.businessCalendar`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({
        value: {
          timeZone: 'UTC',
          hours: { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']], wed: [['09:00', '17:00']], thu: [['09:00', '17:00']], fri: [['09:00', '17:00']] },
          holidays: [],
        },
      }),
    });
    expect(put.status).toBe(200);
    const { body } = await report('groupBy=team&teamId=t2');
    // c4: Wed 12:00 → Thu 09:00 is 5 business hours (Wed 12–17).
    expect(body.rows[0]!.metrics).toMatchObject({ resolutionSeconds: 18000, firstResponseSeconds: 7200 });
    await fetch(`${app.url}/api/v1/settings/analytics.businessCalendar`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ value: null }),
    });
  });

  it('limits supervisors to their teams and exports CSV', async () => {
    const supervisor = await app.authHeaders({ roles: ['supervisor'], teamIds: ['t1'] });
    const { body } = await report('groupBy=team', supervisor);
    expect(body.rows.map((row) => row.team)).toEqual(['t1']);
    expect((await report('teamId=t2', supervisor)).status).toBe(404);
    const agent = await app.authHeaders({ roles: ['agent'], teamIds: ['t1'] });
    expect((await report('groupBy=day', agent)).status).toBe(403);

    const csv = await fetch(`${app.url}/api/v1/analytics/report.csv?${range}&groupBy=team,channel`, { headers: admin });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'team,channel,conversationsCreated,conversationsResolved,firstResponseSeconds,averageResponseSeconds,resolutionSeconds,fcrRate,fcrEligible,reopenRate,csatAverage,csatResponseRate,botConversations,containmentRate,transferRate,ticketsSolved,slaAttainment',
    );
    expect(lines).toContain('t1,webchat,3,3,480,520,3000,0.6667,3,0,5,0.5,2,0.5,0.5,0,');
  });

  it('rejects bad ranges and dimensions with codes', async () => {
    const bad = await fetch(`${app.url}/api/v1/analytics/report?from=${day(7, 0).toISOString()}&to=${day(0, 0).toISOString()}`, { headers: admin });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('analytics_invalid_range');
    const group = await report('groupBy=week');
    expect(group.status).toBe(400);
  });
});
