import { afterAll, describe, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SQLITE_BACKEND, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { createDataSource } from '../../src/platform/database/data-source.factory.js';
import { OutboxWriter } from '../../src/platform/outbox/outbox.writer.js';
import { systemClock } from '../../src/platform/clock/clock.js';
import { ConversationFactRow } from '../../src/analytics/entities/analytics-facts.entity.js';

/**
 * Embedded mode keeps no bus backlog: events still in the outbox when the process stopped must reach the
 * feature consumers after the next start, which means the relay may not publish before they subscribe.
 */
describe('embedded outbox across a restart', () => {
  let core: TestApp | undefined;

  afterAll(async () => {
    await core?.close();
  });

  it('delivers events left pending by a stopped process to consumers of the next one', async () => {
    const env = await SQLITE_BACKEND.env();
    core = await startTestApp({ env });
    const config = core.config;
    await core.close();
    core = undefined;

    // While no process runs: an event lands in the outbox (as if the process died right after a commit).
    const conversationId = randomUUID();
    const offline = createDataSource(config.database);
    await offline.initialize();
    try {
      const writer = new OutboxWriter(config, systemClock);
      const { row } = writer.prepare({
        subject: 'sb.evt.conversation.created',
        id: `conversation.created:${conversationId}`,
        data: { conversationId, contactId: randomUUID(), inboxId: randomUUID(), channel: 'api', teamId: null, priority: 'normal' },
      });
      await offline.transaction((manager) => writer.write(manager, [row]));
    } finally {
      await offline.destroy();
    }

    core = await startTestApp({ env });
    const dataSource = core.app.get<DataSource>(DATA_SOURCE);
    await waitFor(
      async () => (await dataSource.manager.countBy(ConversationFactRow, { conversationId })) === 1,
      10_000,
      'the analytics consumer to see the event',
    );
    // And it leaves the outbox as sent, not pending (the relay marks it once the consumer's commit is on disk).
    await waitFor(
      async () => {
        const rows = (await dataSource.query('SELECT sent_at FROM outbox WHERE event_id = ?', [`conversation.created:${conversationId}`])) as Array<{
          sent_at: unknown;
        }>;
        return rows[0]?.sent_at !== null && rows[0]?.sent_at !== undefined;
      },
      5_000,
      'the outbox row to be marked sent',
    );
  });
});
