import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { agent, agentRows, api, customerWrites, inbox, items, loadScenario, resolve, services, setPresence } from './routing-helpers.js';

describe.each(backends().map((backend) => [backend.name, backend] as const))('routing on %s', (_name, backend) => {
  let app: TestApp;
  let supervisor: Record<string, string>;
  let admin: Record<string, string>;

  beforeAll(async () => {
    app = await startTestApp({
      env: { ...(await backend.env()), ...(process.env.SB_DEBUG ? { LOG_LEVEL: 'warn' } : {}) },
      logDestination: process.env.SB_DEBUG ? process.stderr : undefined,
    });
    supervisor = await app.authHeaders({ roles: ['supervisor'], teamIds: ['t-skills', 't-load', 't-off', 't-transfer'], sub: 'supervisor-1' });
    admin = await app.authHeaders({ roles: ['admin'], sub: 'admin-1' });
    // Fast presence for the offline test.
    const put = await api(app, 'PUT', '/api/v1/settings/routing.offlineGraceSeconds', admin, { value: 1 });
    expect(put.status).toBe(200);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('respects skills, language and capacity, and assigns in priority order', async () => {
    const team = 't-skills';
    const inboxId = await inbox(app, team);
    const { engine } = services(app);
    // Everyone offline while the queue fills, so the order is decided by score alone.
    const billing = await agent(app, supervisor, 'skills-billing', [team], { skills: ['billing'], languages: ['en'], maxConcurrent: 1 }, 'offline');
    const chinese = await agent(app, supervisor, 'skills-zh', [team], { skills: [], languages: ['zh'], maxConcurrent: 5 }, 'offline');

    const normal = await customerWrites(app, inboxId, 'prio-normal');
    const urgent = await customerWrites(app, inboxId, 'prio-urgent');
    const high = await customerWrites(app, inboxId, 'prio-high');
    const vip = await customerWrites(app, inboxId, 'prio-vip');
    const needsBilling = await customerWrites(app, inboxId, 'needs-billing');
    const speaksZh = await customerWrites(app, inboxId, 'speaks-zh');
    const all = [normal, urgent, high, vip, needsBilling, speaksZh];
    await waitFor(async () => (await items(app)).filter((item) => all.includes(item.conversationId)).length === all.length, 10_000, 'items queued');

    const signals = async (id: string, body: Record<string, unknown>) => {
      const response = await api(app, 'PUT', `/api/v1/routing/conversations/${id}/signals`, supervisor, body);
      expect(response.status).toBe(200);
      return response.body as { score: number };
    };
    await signals(urgent, { priority: 'urgent', language: 'en' });
    await signals(high, { priority: 'high', language: 'en' });
    await signals(vip, { vip: true, language: 'en' });
    await signals(normal, { language: 'en' });
    // Needs billing; urgent, so it would be first in line for anyone with the skill.
    await signals(needsBilling, { requiredSkills: ['billing'], priority: 'low', language: 'en' });
    await signals(speaksZh, { language: 'zh-CN', priority: 'urgent' });

    const queue = await api<{ items: Array<{ conversationId: string; score: number }> }>(app, 'GET', `/api/v1/routing/queues/${team}/items`, supervisor);
    expect(queue.status).toBe(200);
    const order = queue.body.items.map((item) => item.conversationId);
    expect(order.indexOf(urgent)).toBeLessThan(order.indexOf(vip));
    expect(order.indexOf(vip)).toBeLessThan(order.indexOf(high));
    expect(order.indexOf(high)).toBeLessThan(order.indexOf(normal));

    // The Chinese speaker (no skills) can take only the zh conversation: English ones need 'en'.
    await setPresence(app, chinese, 'online');
    await waitFor(async () => (await engine.item(speaksZh))?.agentId === chinese.id, 10_000, 'zh conversation to the zh agent');
    await engine.dispatchNow();
    expect((await items(app)).filter((item) => item.agentId === chinese.id).map((item) => item.conversationId)).toEqual([speaksZh]);

    // Billing agent, capacity 1: urgent first, then (as capacity frees) vip, high, normal; the
    // billing conversation (low) is eligible only for them and comes last.
    await setPresence(app, billing, 'online');
    const served: string[] = [];
    for (let i = 0; i < 5; i++) {
      const current = await waitFor(
        async () => (await items(app)).find((item) => item.agentId === billing.id && item.state === 'assigned' && !served.includes(item.conversationId)),
        10_000,
        `assignment ${i + 1}`,
      );
      const load = (await agentRows(app)).find((row) => row.agentId === billing.id)!;
      expect(load.activeCount).toBe(1);
      expect((await items(app)).filter((item) => item.agentId === billing.id && item.state === 'assigned')).toHaveLength(1);
      served.push(current.conversationId);
      await waitFor(async () => (await services(app).conversations.get(current.conversationId)).assigneeId === billing.id, 10_000, 'conversations to agree');
      await resolve(app, current.conversationId);
    }
    expect(served).toEqual([urgent, vip, high, normal, needsBilling]);
  });

  it('assigns 200 simultaneous conversations to 10 agents without exceeding capacity or double-assigning', async () => {
    await loadScenario([app], 't-load', supervisor);
  }, 180_000);

  it('re-queues the conversations of an agent who goes offline and reassigns them', async () => {
    const team = 't-off';
    const inboxId = await inbox(app, team);
    const leaving = await agent(app, supervisor, 'off-leaving', [team], { maxConcurrent: 10 });
    const conversations: string[] = [];
    for (let i = 0; i < 3; i++) conversations.push(await customerWrites(app, inboxId, `off-${i}`));
    await waitFor(
      async () => (await items(app)).filter((item) => conversations.includes(item.conversationId) && item.agentId === leaving.id).length === 3,
      10_000,
      'assigned to the first agent',
    );
    const staying = await agent(app, supervisor, 'off-staying', [team], { maxConcurrent: 10 });

    await setPresence(app, leaving, 'offline');
    // Grace period 1 s: then back to the queue and on to the agent still online.
    await waitFor(
      async () => (await items(app)).filter((item) => conversations.includes(item.conversationId) && item.agentId === staying.id).length === 3,
      15_000,
      'reassigned to the other agent',
    );
    for (const id of conversations)
      await waitFor(async () => (await services(app).conversations.get(id)).assigneeId === staying.id, 10_000, 'conversations to agree');
    const history = await api<{ items: Array<{ kind: string; agentId: string | null }> }>(
      app,
      'GET',
      `/api/v1/routing/conversations/${conversations[0]}/history`,
      supervisor,
    );
    expect(history.body.items.map((entry) => entry.kind)).toEqual(['auto', 'requeue', 'auto']);

    // Missed heartbeats (timeout 2 s, no socket, no REST heartbeat) also count as offline.
    expect((await api(app, 'PUT', '/api/v1/settings/routing.heartbeatTimeoutSeconds', admin, { value: 2 })).status).toBe(200);
    await waitFor(async () => (await agentRows(app)).find((row) => row.agentId === staying.id)?.status === 'offline', 15_000, 'heartbeat timeout');
    const presence = await api<{ items: Array<{ agentId: string; status: string; statusReason: string }> }>(app, 'GET', '/api/v1/routing/presence', supervisor);
    expect(presence.body.items.find((item) => item.agentId === staying.id)).toMatchObject({ status: 'offline', statusReason: 'timeout' });
    // A heartbeat brings them back to the status they chose.
    await api(app, 'POST', '/api/v1/routing/presence/me/heartbeat', staying.headers);
    expect((await agentRows(app)).find((row) => row.agentId === staying.id)?.status).toBe('online');
    expect((await api(app, 'PUT', '/api/v1/settings/routing.heartbeatTimeoutSeconds', admin, { value: 60 })).status).toBe(200);
    await setPresence(app, staying, 'offline');
  });

  it('supports manual transfer with a note and supervisor override; agents cannot override', async () => {
    // A team of its own: the previous test's conversations return to the queue when its last agent goes
    // offline, and must not land on these agents while their counts are compared.
    const team = 't-transfer';
    const inboxId = await inbox(app, team, 'email');
    const first = await agent(app, supervisor, 'tx-first', [team], { maxConcurrent: 5 });
    const conversationId = await customerWrites(app, inboxId, 'tx-customer');
    await waitFor(async () => (await services(app).engine.item(conversationId))?.state === 'assigned', 10_000, 'assigned');
    const holder = (await services(app).engine.item(conversationId))!.agentId!;
    const full = await agent(app, supervisor, 'tx-full', [team], { maxConcurrent: 1 }, 'away');
    // The holder may be an agent of an earlier test still holding other conversations: compare, don't assume 0.
    const holderBefore = (await agentRows(app)).find((row) => row.agentId === holder)?.activeCount ?? 0;

    const byAgent = await api<{ error: { code: string } }>(app, 'POST', `/api/v1/routing/conversations/${conversationId}/transfer`, first.headers, {
      agentId: full.id,
      override: true,
    });
    expect(byAgent.status).toBe(403);
    const unavailable = await api<{ error: { code: string } }>(app, 'POST', `/api/v1/routing/conversations/${conversationId}/transfer`, supervisor, {
      agentId: full.id,
    });
    expect(unavailable.status).toBe(409);
    expect(unavailable.body.error.code).toBe('routing_agent_unavailable');
    const override = await api<{ agentId: string }>(app, 'POST', `/api/v1/routing/conversations/${conversationId}/transfer`, supervisor, {
      agentId: full.id,
      override: true,
      note: 'Customer asked for the specialist 专家',
    });
    expect(override.status).toBe(200);
    expect(override.body.agentId).toBe(full.id);
    await waitFor(async () => (await services(app).conversations.get(conversationId)).assigneeId === full.id, 10_000, 'conversation reassigned');
    const notes = await services(app).conversations.listMessages(conversationId, { afterSeq: 0 });
    expect(notes.some((message) => message.private && message.text.includes('专家'))).toBe(true);
    const rows = await agentRows(app);
    expect(rows.find((row) => row.agentId === full.id)?.activeCount).toBe(1);
    if (holder !== full.id) expect(rows.find((row) => row.agentId === holder)?.activeCount).toBe(holderBefore - 1);

    const toTeam = await api<{ state: string; teamId: string }>(app, 'POST', `/api/v1/routing/conversations/${conversationId}/transfer`, supervisor, {
      teamId: 't-skills',
      note: 'billing question',
    });
    expect(toTeam.status).toBe(200);
    expect(toTeam.body).toMatchObject({ teamId: 't-skills' });
    expect((await agentRows(app)).find((row) => row.agentId === full.id)?.activeCount).toBe(0);
    await setPresence(app, first, 'offline');
  });

  it('scopes presence and queues to the caller', async () => {
    const outsider = await app.authHeaders({ roles: ['supervisor'], teamIds: ['elsewhere'], sub: 'supervisor-elsewhere' });
    const seen = await api<{ items: Array<{ agentId: string }> }>(app, 'GET', '/api/v1/routing/presence', outsider);
    expect(seen.status).toBe(200);
    expect(seen.body.items).toHaveLength(0);
    const queue = await api(app, 'GET', '/api/v1/routing/queues/t-load/items', outsider);
    expect(queue.status).toBe(404);
    const anonymous = await fetch(`${app.url}/api/v1/routing/presence`);
    expect(anonymous.status).toBe(401);
  });
});
