import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { seedDemo, type SeedSummary } from '../../src/demo/demo-seed.js';
import { runSimulator } from '../../src/demo/demo-simulate.js';

describe.each(backends().map((backend) => [backend.name, backend] as const))('switchboard demo seed on %s', (_name, backend) => {
  let app: TestApp;
  let summary: SeedSummary;
  const lines: string[] = [];
  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env() });
    summary = await seedDemo(app.app, { log: (line) => lines.push(line), adminUsername: 'admin', settleMs: 40_000 });
  }, 180_000);
  afterAll(() => app?.close());

  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${app.url}${path}`, { headers: await app.authHeaders({ roles: ['admin'] }) });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };

  it('creates zh/en conversations, tickets, devices with readings and a fault, through the normal event flow', async () => {
    expect(summary.conversations).toBeGreaterThanOrEqual(10);
    expect(summary.adminPassword).toBeTruthy();
    const conversations = await get<{ items: Array<{ status: string; channel: string }> }>('/api/v1/conversations?limit=100');
    // Device owners may get a notification conversation of their own.
    expect(conversations.items.length).toBeGreaterThanOrEqual(summary.conversations);
    expect(new Set(conversations.items.map((conversation) => conversation.channel))).toEqual(new Set(['webchat', 'email', 'api']));
    const tickets = await get<{ items: Array<{ type: string }> }>('/api/v1/tickets?limit=100');
    expect(tickets.items.length).toBeGreaterThanOrEqual(summary.tickets);
    const devices = await get<{ items: Array<{ id: string; state: string }> }>('/api/v1/devices');
    expect(devices.items.length).toBe(6);
    await waitFor(async () => (await get<{ state: string }>('/api/v1/devices/CR-SH-02')).state === 'fault', 15_000, 'device fault');
    const episodes = await get<{ items: Array<{ status: string; ticketId: string | null }> }>('/api/v1/devices/CR-SH-02/episodes');
    expect(episodes.items.some((episode) => episode.status === 'open')).toBe(true);
    const readings = await get<{ items: unknown[] }>(
      '/api/v1/devices/CR-SH-01/readings?limit=2000&since=' + new Date(Date.now() - 86_400_000 * 2).toISOString(),
    );
    expect(readings.items.length).toBeGreaterThan(100);
    // Analytics came through the events, spread over several days, with CSAT answers.
    const from = new Date(Date.now() - 20 * 86_400_000).toISOString();
    const report = await get<{
      rows: unknown[];
      totals: { conversationsCreated: number; conversationsResolved: number; csatAverage: number | null; ticketsSolved: number; slaAttainment: number | null };
    }>(`/api/v1/analytics/report?from=${from}&to=${new Date(Date.now() + 60_000).toISOString()}&groupBy=day`);
    expect(report.totals.conversationsCreated).toBeGreaterThanOrEqual(summary.conversations);
    expect(report.totals.conversationsResolved).toBeGreaterThan(5);
    expect(report.rows.length).toBeGreaterThan(5);
    // Tickets solved in the past stay solved (a lagging consumer once reopened them): the dashboards show them.
    expect(report.totals.ticketsSolved).toBeGreaterThan(0);
    expect(report.totals.slaAttainment).not.toBeNull();
    expect(summary.csatAnswers).toBeGreaterThan(0);
    // The seed waits until the CSAT answers are counted (the CLI exits right after seeding).
    expect(report.totals.csatAverage).not.toBeNull();
  });

  it('creates a published zh/en knowledge base with variants, a review queue, active bot flows and the bot on the web chat', async () => {
    expect(summary.kbEntries).toBeGreaterThanOrEqual(8);
    const entries = await get<{ items: Array<{ title: string; language: string; status: string; questions: string[]; audience: string }> }>(
      '/api/v1/knowledge/entries?limit=100',
    );
    expect(entries.items.length).toBe(summary.kbEntries);
    expect(entries.items.every((entry) => entry.status === 'published' && entry.questions.length >= 2)).toBe(true);
    expect(new Set(entries.items.map((entry) => entry.language))).toEqual(new Set(['zh', 'en']));
    expect(entries.items.some((entry) => entry.audience === 'internal')).toBe(true);
    // Published means answerable.
    const hits = await get<{ items: Array<{ title: string; score: number }> }>(`/api/v1/knowledge/search?q=${encodeURIComponent('退款什么时候到账')}`);
    expect(hits.items[0]?.title).toBe('退款多久到账？');
    const flows = await get<{ items: Array<{ name: string; status: string }> }>('/api/v1/bot/flows');
    expect(
      flows.items
        .filter((flow) => flow.status === 'active')
        .map((flow) => flow.name)
        .sort(),
    ).toEqual(['invoice_request', 'order_status']);
    const inboxes = await get<{ items: Array<{ id: string; channel: string }> }>('/api/v1/inboxes');
    const webchat = inboxes.items.find((inbox) => inbox.channel === 'webchat')!;
    const bot = await get<{ configured: boolean; config: { enabled: boolean; flows: string[]; businessHours: unknown; greeting: Record<string, string> } }>(
      `/api/v1/bot/inboxes/${webchat.id}/config`,
    );
    expect(bot.configured).toBe(true);
    expect(bot.config.enabled).toBe(true);
    expect(bot.config.flows).toEqual(['order_status', 'invoice_request']);
    expect(bot.config.businessHours).toMatchObject({ timezone: 'Asia/Shanghai', open: '09:00' });
    expect(bot.config.greeting.zh).toContain('您好');
    // The review queue: mined unanswered questions and an agent's answer (the learning loop).
    const proposals = await get<{ items: Array<{ source: string; kind: string; questions: string[]; answer: string | null; occurrences: number }> }>(
      '/api/v1/knowledge/proposals?status=pending',
    );
    expect(summary.kbProposals).toBe(proposals.items.length);
    const fromAgent = proposals.items.find((proposal) => proposal.source === 'agent_answer');
    expect(fromAgent?.answer).toContain('顺丰');
    const mined = proposals.items.find((proposal) => proposal.source === 'mining');
    expect(mined?.occurrences).toBeGreaterThanOrEqual(2);
    expect(mined?.questions.some((question) => question.includes('香港'))).toBe(true);
  });

  it('the simulator posts live telemetry through the API with the key the seed created', async () => {
    expect(summary.simulatorKey).toMatch(/^sbk_/);
    const count = async () =>
      (await get<{ items: unknown[] }>(`/api/v1/devices/RT-LON-0007/readings?limit=2000&since=${new Date(Date.now() - 3 * 86_400_000).toISOString()}`)).items
        .length;
    const before = await count();
    expect(await runSimulator({ url: app.url, apiKey: summary.simulatorKey!, rounds: 2, intervalMs: 50 })).toBe(12);
    await waitFor(async () => (await count()) >= before + 6, 10_000, 'simulated readings');
  });

  it('is idempotent: a second run adds nothing', async () => {
    const again = await seedDemo(app.app, { log: () => undefined, settleMs: 2000 });
    expect(again.conversations).toBe(0);
    expect(again.devices).toBe(0);
    expect(again.tickets).toBe(0);
    expect(again.kbEntries).toBe(0);
    expect(again.flows).toBe(0);
    expect(again.botInboxes).toBe(0);
    expect(again.kbProposals).toBe(0);
  }, 120_000);
});
