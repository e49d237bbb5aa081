import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, type TestApp } from '../harness/test-app.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { TicketsListIndexes1765100000010 } from '../../src/tickets/migrations/1765100000010-tickets-list-indexes.js';

type Json = Record<string, unknown>;

/**
 * The ticket-list migration (indexes + `ticket_tags`) and the `?tag=` filter that reads it: tags
 * follow every write, match exactly (no LIKE wildcards), and the migration backfills existing tickets.
 */
describe.each(backends().map((backend) => [backend.name, backend] as const))('ticket list indexes on %s', (_name, backend) => {
  let app: TestApp;
  let agent: Record<string, string>;
  let dataSource: DataSource;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? agent : { ...agent, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const numbersTagged = async (tag: string) =>
    ((await call('GET', `/api/v1/tickets?tag=${encodeURIComponent(tag)}&sort=number&order=asc&limit=100`)).body.items as Array<{ id: string }>).map(
      (t) => t.id,
    );

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env() });
    agent = await app.authHeaders({ roles: ['agent'], teamIds: ['team-t'] });
    dataSource = app.app.get<DataSource>(DATA_SOURCE);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('filters by tag through ticket_tags, following creates and updates, with exact matches only', async () => {
    const a = (await call('POST', '/api/v1/tickets', { subject: 'A', type: 'task', teamId: 'team-t', tags: ['Refund', '50%_off'] })).body;
    const b = (await call('POST', '/api/v1/tickets', { subject: 'B', type: 'task', teamId: 'team-t', tags: ['refund-later', '50x1off'] })).body;
    expect(await numbersTagged('refund')).toEqual([a.id]);
    expect(await numbersTagged('REFUND')).toEqual([a.id]);
    // `%` and `_` are plain characters, not wildcards.
    expect(await numbersTagged('50%_off')).toEqual([a.id]);
    expect(await numbersTagged('50%')).toEqual([]);
    const rows = (await dataSource.query('SELECT tag FROM ticket_tags WHERE ticket_id = ? ORDER BY tag', [a.id])) as Array<{ tag: string }>;
    expect(rows.map((r) => r.tag)).toEqual(['50%_off', 'refund']);

    const updated = await call('PATCH', `/api/v1/tickets/${a.id as string}`, { tags: ['vip'], expectedVersion: a.version });
    expect(updated.status).toBe(200);
    expect(await numbersTagged('refund')).toEqual([]);
    expect(await numbersTagged('vip')).toEqual([a.id]);
    const untagged = await call('PATCH', `/api/v1/tickets/${b.id as string}`, { tags: [], expectedVersion: b.version });
    expect(untagged.status).toBe(200);
    expect(await numbersTagged('refund-later')).toEqual([]);
    expect(await dataSource.query('SELECT tag FROM ticket_tags WHERE ticket_id = ?', [b.id])).toEqual([]);
  });

  it('backfills ticket_tags from existing tickets and can be rolled back and re-applied', async () => {
    const created = (await call('POST', '/api/v1/tickets', { subject: 'Old', type: 'question', teamId: 'team-t', tags: ['legacy', 'printer'] })).body;
    const runner = dataSource.createQueryRunner();
    try {
      const migration = new TicketsListIndexes1765100000010();
      await migration.down(runner);
      expect(await runner.hasTable('ticket_tags')).toBe(false);
      await migration.up(runner);
      const rows = (await dataSource.query('SELECT tag FROM ticket_tags WHERE ticket_id = ? ORDER BY tag', [created.id])) as Array<{ tag: string }>;
      expect(rows.map((r) => r.tag)).toEqual(['legacy', 'printer']);
      const table = await runner.getTable('tickets');
      expect(table?.indices.map((index) => index.name)).toEqual(
        expect.arrayContaining(['ix_tickets_priority_updated', 'ix_tickets_priority_number', 'ix_tickets_type_status_updated']),
      );
    } finally {
      await runner.release();
    }
    expect(await numbersTagged('legacy')).toEqual([created.id]);
  });
});
