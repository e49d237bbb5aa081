import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, type TestApp } from '../harness/test-app.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../../src/platform/database/unit-of-work.js';
import { SchedulerTimerRow } from '../../src/platform/scheduler/scheduler.entities.js';
import { OutboxRow } from '../../src/platform/outbox/outbox.entity.js';
import { timerRow } from './support/timer-row.js';

const timer = (key: string) => timerRow(key, 'coalesce.test');

describe.each(backends().map((backend) => [backend.name, backend] as const))('coalesced units of work on %s', (_name, backend) => {
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

  it('lets concurrent units of one lane share transactions, and gives each its own result and events', async () => {
    const run = randomUUID();
    const transactions = new Set<Tx>();
    const committed: string[] = [];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        uow.run(
          async (tx) => {
            transactions.add(tx);
            await tx.insert(SchedulerTimerRow, timer(`${run}:${index}`));
            await tx.emit({ subject: 'sb.evt.platformtest.coalesced', id: `${run}:${index}`, data: { index } });
            tx.afterCommit(() => committed.push(`${index}`));
            return index * 2;
          },
          { coalesce: run },
        ),
      ),
    );
    expect(results).toEqual(Array.from({ length: 40 }, (_, index) => index * 2));
    // The first unit runs alone; the 39 that queued behind it share at most three transactions (16 per batch).
    expect(transactions.size).toBeLessThanOrEqual(4);
    expect(transactions.size).toBeGreaterThanOrEqual(2);
    expect(committed.sort()).toEqual(Array.from({ length: 40 }, (_, index) => `${index}`).sort());
    const stored = await dataSource.manager
      .createQueryBuilder(SchedulerTimerRow, 't')
      .where('t.timer_key LIKE :prefix', { prefix: `${run}:%` })
      .getCount();
    expect(stored).toBe(40);
    const events = await dataSource.manager
      .createQueryBuilder(OutboxRow, 'o')
      .where('o.event_id LIKE :prefix', { prefix: `${run}:%` })
      .getCount();
    expect(events).toBe(40);
  });

  it('isolates a failing unit: its neighbours commit, it alone gets its error and leaves nothing behind', async () => {
    const run = randomUUID();
    const committed: number[] = [];
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, index) =>
        uow.run(
          async (tx) => {
            await tx.insert(SchedulerTimerRow, timer(`${run}:${index}`));
            await tx.emit({ subject: 'sb.evt.platformtest.coalesced', id: `${run}:${index}`, data: { index } });
            tx.afterCommit(() => committed.push(index));
            if (index === 5) throw new Error('unit 5 refuses');
            return index;
          },
          { coalesce: run },
        ),
      ),
    );
    outcomes.forEach((outcome, index) => {
      if (index === 5) expect(outcome).toEqual({ status: 'rejected', reason: new Error('unit 5 refuses') });
      else expect(outcome).toEqual({ status: 'fulfilled', value: index });
    });
    // Every afterCommit ran once, for committed units only.
    expect(committed.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
    const keys = (
      await dataSource.manager
        .createQueryBuilder(SchedulerTimerRow, 't')
        .where('t.timer_key LIKE :prefix', { prefix: `${run}:%` })
        .getMany()
    ).map((row) => Number(row.key.split(':')[1]));
    expect(keys.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
    expect(await dataSource.manager.countBy(OutboxRow, { eventId: `${run}:5` })).toBe(0);
  });

  it('keeps a duplicate-key unit from taking its neighbours down (the unique constraint still decides)', async () => {
    const run = randomUUID();
    await uow.run((tx) => tx.insert(SchedulerTimerRow, timer(`${run}:taken`)));
    const outcomes = await Promise.allSettled(
      ['a', 'taken', 'b', 'c'].map((suffix) => uow.run((tx) => tx.insert(SchedulerTimerRow, timer(`${run}:${suffix}`)), { coalesce: run })),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const stored = await dataSource.manager
      .createQueryBuilder(SchedulerTimerRow, 't')
      .where('t.timer_key LIKE :prefix', { prefix: `${run}:%` })
      .getCount();
    expect(stored).toBe(4);
  });
});
