/**
 * The bot's per-instance cache of active flows: an activation on this instance is not undone by a
 * reload of the flow table that read the table before the activation committed.
 */
import { describe, expect, it } from '@jest/globals';
import type { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { BotService } from '../../src/bot/bot.service.js';
import { BotFlowRow } from '../../src/bot/entities/bot.entity.js';
import { SYSTEM_ACTOR } from '../../src/identity/actor.js';
import { FLOW_YAML, withBotApp } from './bot-helpers.js';

describe('bot flow cache', () => {
  const bot = withBotApp({ setup: false });

  it('keeps a flow activated here while a reload that read the table earlier completes', async () => {
    const service = bot.app.app.get(BotService);
    const manager = bot.app.app.get<DataSource>(DATA_SOURCE).manager;
    const original = manager.find.bind(manager) as EntityManager['find'];
    let readDone!: () => void;
    const read = new Promise<void>((resolve) => (readDone = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = false;
    // The next read of the flow table returns what it read, but only after the activation below committed.
    manager.find = (async (entity: unknown, options: unknown) => {
      const rows = await (original as (entity: unknown, options: unknown) => Promise<unknown[]>)(entity, options);
      if (entity === BotFlowRow && !held) {
        held = true;
        readDone();
        await released;
      }
      return rows;
    }) as EntityManager['find'];
    try {
      const reload = (service as unknown as { reloadFlows(): Promise<void> }).reloadFlows();
      await read;
      const flow = await service.createFlow(SYSTEM_ACTOR, { format: 'yaml', source: FLOW_YAML.replaceAll('ERP_URL', 'http://127.0.0.1:9'), activate: true });
      expect(service.activeFlow(flow.name)?.version).toBe(flow.version);
      release();
      await reload;
      // The stale rows did not hold the new flow; the cache still does.
      expect(service.activeFlow(flow.name)?.version).toBe(flow.version);
      // A later reload reads it from the table, and forgets the local record.
      await (service as unknown as { reloadFlows(): Promise<void> }).reloadFlows();
      expect(service.activeFlow(flow.name)?.version).toBe(flow.version);
    } finally {
      manager.find = original;
      release();
    }
  });
});
