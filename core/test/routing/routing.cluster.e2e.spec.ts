import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MYSQL_BACKEND, mysqlAvailable, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { agent, api, customerWrites, inbox, items, loadScenario, services, setPresence } from './routing-helpers.js';

/** The same guarantees with two core processes' worth of instances on one MariaDB + NATS. */
const run = mysqlAvailable() ? describe : describe.skip;

run('routing across two core instances on MariaDB + NATS', () => {
  let first: TestApp;
  let second: TestApp;
  let supervisor: Record<string, string>;

  beforeAll(async () => {
    const env = await MYSQL_BACKEND.env();
    first = await startTestApp({ env });
    second = await startTestApp({ env });
    supervisor = await first.authHeaders({ roles: ['supervisor'], teamIds: ['c-load', 'c-off'], sub: 'cluster-supervisor' });
    expect(
      (
        await api(first, 'PUT', '/api/v1/settings/routing.offlineGraceSeconds', await first.authHeaders({ roles: ['admin'], sub: 'cluster-admin' }), {
          value: 1,
        })
      ).status,
    ).toBe(200);
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('200 conversations, 10 agents, work arriving on both instances: capacity kept, exactly one assignee each', async () => {
    await loadScenario([first, second], 'c-load', supervisor);
  }, 240_000);

  it('an agent going offline on one instance has their conversations reassigned (grace timer fires once)', async () => {
    const team = 'c-off';
    const inboxId = await inbox(first, team);
    const leaving = await agent(first, supervisor, 'c-leaving', [team], { maxConcurrent: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await customerWrites(i % 2 ? second : first, inboxId, `c-off-${i}`));
    await waitFor(
      async () => (await items(first)).filter((item) => ids.includes(item.conversationId) && item.agentId === leaving.id).length === 4,
      15_000,
      'assigned',
    );
    const staying = await agent(second, supervisor, 'c-staying', [team], { maxConcurrent: 10 });
    await setPresence(second, leaving, 'offline');
    await waitFor(
      async () => (await items(first)).filter((item) => ids.includes(item.conversationId) && item.agentId === staying.id).length === 4,
      20_000,
      'reassigned',
    );
    for (const id of ids) {
      const history = await services(first).engine.history(id);
      expect(history.map((entry) => entry.kind)).toEqual(['auto', 'requeue', 'auto']);
    }
  }, 60_000);
});
