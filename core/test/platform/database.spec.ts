import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, type TestApp } from '../harness/test-app.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { UnitOfWork } from '../../src/platform/database/unit-of-work.js';
import { ALL_MIGRATIONS } from '../../src/migrations.js';
import { OutboxRow } from '../../src/platform/outbox/outbox.entity.js';
import { SchedulerTimerRow } from '../../src/platform/scheduler/scheduler.entities.js';

const TEXT = '客服中心 🎧 你好，世界 👩🏽‍💻 Ünïcødé';

describe.each(backends().map((backend) => [backend.name, backend] as const))('database on %s', (name, backend) => {
  let core: TestApp;
  let dataSource: DataSource;
  let uow: UnitOfWork;

  beforeAll(async () => {
    core = await startTestApp({ env: await backend.env() });
    dataSource = core.app.get<DataSource>(DATA_SOURCE);
    uow = core.app.get(UnitOfWork);
  });

  afterAll(async () => {
    await core?.close();
  });

  it('applies every registered migration at start, once', async () => {
    const rows = (await dataSource.query('SELECT name FROM schema_migrations ORDER BY id')) as Array<{ name: string }>;
    const expected = ALL_MIGRATIONS.map((migration) => new migration().name ?? migration.name);
    // TypeORM applies them in timestamp order, whatever the registry's order.
    expect(rows.map((row) => row.name).sort()).toEqual([...expected].sort());
    expect(new Set(rows.map((row) => row.name)).size).toBe(rows.length);
    for (const table of ['outbox', 'processed_events', 'scheduler_jobs', 'scheduler_timers']) {
      await expect(dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`)).resolves.toBeDefined();
    }
    // Running them again is a no-op.
    await expect(dataSource.runMigrations({ transaction: 'each' })).resolves.toEqual([]);
  });

  it('round-trips Chinese text and emoji through a real table (JSON and plain columns)', async () => {
    const id = randomUUID();
    const key = `t:${TEXT}:${id}`;
    await uow.run(async (tx) => {
      await tx.emit({ subject: 'sb.evt.platformtest.text', id, data: { text: TEXT }, headers: { note: TEXT } });
      await tx.manager.insert(SchedulerTimerRow, {
        key,
        kind: 'platformtest.none',
        dueAt: new Date(Date.now() + 3_600_000),
        payload: { text: TEXT },
        claimedBy: null,
        claimedUntil: null,
        firedAt: null,
        attempts: 0,
        lastError: TEXT,
      });
    });
    const row = await dataSource.manager.findOneByOrFail(OutboxRow, { eventId: id });
    expect(row.envelope.data).toEqual({ text: TEXT });
    expect(row.headers).toEqual({ note: TEXT });
    const timer = await dataSource.manager.findOneByOrFail(SchedulerTimerRow, { key });
    expect(timer.lastError).toBe(TEXT);
    expect(timer.payload).toEqual({ text: TEXT });
    // Searching by the 4-byte text works too (it would not on utf8mb3 columns).
    const raw = (await dataSource.query('SELECT last_error FROM scheduler_timers WHERE last_error = ?', [TEXT])) as Array<{ last_error: string }>;
    expect(raw[0]?.last_error).toBe(TEXT);
  });

  if (name === 'mariadb+nats') {
    it('creates every table as utf8mb4', async () => {
      const tables = (await dataSource.query(
        'SELECT TABLE_NAME AS name, TABLE_COLLATION AS collation FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
      )) as Array<{ name: string; collation: string }>;
      expect(tables.length).toBeGreaterThan(4);
      expect(tables.filter((table) => !table.collation.startsWith('utf8mb4'))).toEqual([]);
      const columns = (await dataSource.query(
        `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, CHARACTER_SET_NAME AS cs FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME IS NOT NULL AND CHARACTER_SET_NAME <> 'utf8mb4'`,
      )) as unknown[];
      expect(columns).toEqual([]);
    });
  }

  it('commits a write and its events together', async () => {
    const eventId = randomUUID();
    const key = `uow:commit:${eventId}`;
    await uow.run(async (tx) => {
      await tx.manager.insert(SchedulerTimerRow, timerRow(key));
      await tx.emit({ subject: 'sb.evt.platformtest.committed', id: eventId, data: { key } });
    });
    expect(await dataSource.manager.countBy(SchedulerTimerRow, { key })).toBe(1);
    expect(await dataSource.manager.countBy(OutboxRow, { eventId })).toBe(1);
  });

  it('rolls back the write and its events together when the work throws', async () => {
    const eventId = randomUUID();
    const key = `uow:rollback:${eventId}`;
    const afterCommit: string[] = [];
    await expect(
      uow.run(async (tx) => {
        await tx.manager.insert(SchedulerTimerRow, timerRow(key));
        await tx.emit({ subject: 'sb.evt.platformtest.rolledback', id: eventId, data: { key } });
        tx.afterCommit(() => afterCommit.push(key));
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await dataSource.manager.countBy(SchedulerTimerRow, { key })).toBe(0);
    expect(await dataSource.manager.countBy(OutboxRow, { eventId })).toBe(0);
    expect(afterCommit).toEqual([]);
  });

  it('accepts stable event ids up to 128 characters and refuses longer ones', async () => {
    const long = `settings:${'x'.repeat(100)}:${randomUUID()}`.slice(0, 128);
    await uow.run((tx) => tx.emit({ subject: 'sb.evt.platformtest.long', id: long, data: {} }));
    expect(await dataSource.manager.countBy(OutboxRow, { eventId: long })).toBe(1);
    await expect(uow.run((tx) => tx.emit({ subject: 'sb.evt.platformtest.long', id: `${long}!`, data: {} }))).rejects.toThrow(/1–128 characters/);
  });

  it('rolls back everything when an emit is refused, and keeps concurrent units of work apart', async () => {
    const good = randomUUID();
    await expect(
      uow.run(async (tx) => {
        await tx.emit({ subject: 'sb.evt.platformtest.ok', id: good, data: {} });
        await tx.emit({ subject: 'not.a.stream.subject', data: {} });
      }),
    ).rejects.toThrow(/refuses subject/);
    expect(await dataSource.manager.countBy(OutboxRow, { eventId: good })).toBe(0);

    // Twenty concurrent units of work, every other one failing: exactly the good ones remain.
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const results = await Promise.allSettled(
      ids.map((id, index) =>
        uow.run(async (tx) => {
          await tx.manager.insert(SchedulerTimerRow, timerRow(`uow:many:${id}`));
          await tx.emit({ subject: 'sb.evt.platformtest.many', id, data: { index } });
          await new Promise((resolve) => setTimeout(resolve, index % 3));
          if (index % 2 === 1) throw new Error(`fail ${index}`);
        }),
      ),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
    for (const [index, id] of ids.entries()) {
      const expected = index % 2 === 0 ? 1 : 0;
      expect(await dataSource.manager.countBy(OutboxRow, { eventId: id })).toBe(expected);
      expect(await dataSource.manager.countBy(SchedulerTimerRow, { key: `uow:many:${id}` })).toBe(expected);
    }
  });
});

function timerRow(key: string): Partial<SchedulerTimerRow> {
  return {
    key,
    kind: 'platformtest.none',
    dueAt: new Date(Date.now() + 3_600_000),
    payload: null,
    claimedBy: null,
    claimedUntil: null,
    firedAt: null,
    attempts: 0,
    lastError: null,
  };
}
