import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { ManualClock } from '../../src/platform/clock/clock.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { UnitOfWork } from '../../src/platform/database/unit-of-work.js';
import { SchedulerService } from '../../src/platform/scheduler/scheduler.service.js';
import { SchedulerJobRow, SchedulerTimerRow } from '../../src/platform/scheduler/scheduler.entities.js';
import { OutboxRow } from '../../src/platform/outbox/outbox.entity.js';

const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MINUTE = 60_000;

describe.each(backends().map((backend) => [backend.name, backend] as const))('scheduler on %s', (name, backend) => {
  /** Every instance shares one hand-moved clock, so "a period" is exact and the test does not sleep through it. */
  const clock = new ManualClock(new Date('2026-03-01T08:00:00Z'));
  let env: Record<string, string>;
  let cores: TestApp[] = [];
  let dataSource: DataSource;

  const start = async () => startTestApp({ env, clock });

  beforeAll(async () => {
    env = await backend.env();
    cores.push(await start());
    // Two instances on one MariaDB; embedded mode is one process by definition.
    if (name === 'mariadb+nats') cores.push(await start());
    dataSource = cores[0]!.app.get<DataSource>(DATA_SOURCE);
  });

  afterAll(async () => {
    for (const core of cores) await core.close();
  });

  it('runs a periodic job once per period across instances', async () => {
    const job = unique('test.periodic.');
    const runs: Array<{ instance: string; at: number }> = [];
    for (const core of cores) {
      core.app.get(SchedulerService).every(job, MINUTE, async () => {
        runs.push({ instance: core.config.instanceId, at: clock.now().getTime() });
        await sleep(5);
      });
    }
    await waitFor(() => runs.length === 1, 10_000, 'the first run');
    for (let period = 1; period <= 5; period++) {
      clock.advance(MINUTE);
      // Every instance races for the period several times (on top of their own polling loops).
      await Promise.all(cores.flatMap((core) => [1, 2, 3].map(() => core.app.get(SchedulerService).tick())));
      await waitFor(() => runs.length === period + 1, 10_000, `run ${period + 1}`);
      await sleep(120);
      expect(runs).toHaveLength(period + 1);
    }
    // Half a period later nothing new runs.
    clock.advance(MINUTE / 2);
    await Promise.all(cores.map((core) => core.app.get(SchedulerService).tick()));
    await sleep(200);
    expect(runs).toHaveLength(6);
    const row = await dataSource.manager.findOneByOrFail(SchedulerJobRow, { name: job });
    expect(row.runCount).toBe(6);
    expect(row.lockedBy).toBeNull();
  });

  it('fires each one-shot timer exactly once across instances, with its effects in the same transaction', async () => {
    const kind = unique('test.timer.');
    const fired: Array<{ key: string; instance: string }> = [];
    for (const core of cores) {
      core.app.get(SchedulerService).onTimer(kind, async (payload, tx, timer) => {
        await tx.emit({ subject: 'sb.evt.platformtest.timerfired', id: `fired:${timer.key}`, data: payload as object });
        tx.afterCommit(() => fired.push({ key: timer.key, instance: core.config.instanceId }));
      });
    }
    const keys = Array.from({ length: 30 }, (_, i) => `${kind}:${i}`);
    await Promise.all(
      keys.map((key, i) => {
        const core = cores[i % cores.length]!;
        return core.app
          .get(UnitOfWork)
          .run((tx) => core.app.get(SchedulerService).schedule(tx, { key, kind, dueAt: new Date(clock.now().getTime() + MINUTE), payload: { i } }));
      }),
    );
    // Re-scheduling a key moves it instead of adding a second timer.
    await cores[0]!.app
      .get(UnitOfWork)
      .run((tx) =>
        cores[0]!.app.get(SchedulerService).schedule(tx, { key: keys[0]!, kind, dueAt: new Date(clock.now().getTime() + 2 * MINUTE), payload: { i: 0 } }),
      );
    await sleep(200);
    expect(fired).toEqual([]);
    clock.advance(MINUTE + 1000);
    await Promise.all(cores.flatMap((core) => [1, 2].map(() => core.app.get(SchedulerService).tick())));
    await waitFor(() => fired.length === keys.length - 1, 15_000, 'the due timers');
    clock.advance(MINUTE);
    await waitFor(() => fired.length === keys.length, 15_000, 'the moved timer');
    await sleep(300);
    const counts = new Map<string, number>();
    for (const entry of fired) counts.set(entry.key, (counts.get(entry.key) ?? 0) + 1);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect([...counts.keys()].sort()).toEqual([...keys].sort());
    for (const key of keys) expect(await dataSource.manager.countBy(OutboxRow, { eventId: `fired:${key}` })).toBe(1);
    const unfired = await dataSource.manager.createQueryBuilder(SchedulerTimerRow, 't').where('t.kind = :kind AND t.fired_at IS NULL', { kind }).getCount();
    expect(unfired).toBe(0);
  });

  it('retries a failing timer later and fires it once it succeeds', async () => {
    const kind = unique('test.flaky.');
    let attempts = 0;
    const fired: string[] = [];
    for (const core of cores) {
      core.app.get(SchedulerService).onTimer(kind, async (_payload, tx, timer) => {
        attempts++;
        if (attempts === 1) throw new Error('downstream unavailable');
        tx.afterCommit(() => fired.push(timer.key));
      });
    }
    await cores[0]!.app.get(UnitOfWork).run((tx) => cores[0]!.app.get(SchedulerService).schedule(tx, { key: `${kind}:1`, kind, dueAt: clock.now() }));
    await waitFor(() => attempts === 1, 10_000, 'the first attempt');
    await sleep(200);
    expect(fired).toEqual([]);
    clock.advance(5 * MINUTE); // past the backoff
    await waitFor(() => fired.length === 1, 10_000, 'the retry');
    await sleep(200);
    expect(fired).toEqual([`${kind}:1`]);
    expect(attempts).toBe(2);
  });

  it('cancels a pending timer so it never fires', async () => {
    const kind = unique('test.cancel.');
    const fired: string[] = [];
    for (const core of cores) core.app.get(SchedulerService).onTimer(kind, async (_payload, _tx, timer) => void fired.push(timer.key));
    const scheduler = cores[0]!.app.get(SchedulerService);
    const uow = cores[0]!.app.get(UnitOfWork);
    await uow.run(async (tx) => {
      await scheduler.schedule(tx, { key: `${kind}:cancelled`, kind, dueAt: new Date(clock.now().getTime() + MINUTE) });
      await scheduler.schedule(tx, { key: `${kind}:kept`, kind, dueAt: new Date(clock.now().getTime() + MINUTE) });
    });
    await uow.run((tx) => scheduler.cancel(tx, `${kind}:cancelled`));
    expect(await dataSource.manager.countBy(SchedulerTimerRow, { key: `${kind}:cancelled` })).toBe(0);
    clock.advance(2 * MINUTE);
    await waitFor(() => fired.length === 1, 10_000, 'the kept timer');
    await sleep(200);
    expect(fired).toEqual([`${kind}:kept`]);
  });

  it('fires timers while a long job is still running (jobs do not hold the loop)', async () => {
    const job = unique('test.slow.');
    const kind = unique('test.beside-slow.');
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let jobStarted = false;
    const fired: string[] = [];
    for (const core of cores) {
      const scheduler = core.app.get(SchedulerService);
      scheduler.onTimer(kind, async (_payload, _tx, timer) => void fired.push(timer.key));
      scheduler.every(job, MINUTE, async () => {
        jobStarted = true;
        await blocked;
      });
    }
    await waitFor(() => jobStarted, 10_000, 'the long job to start');
    const scheduler = cores[0]!.app.get(SchedulerService);
    await cores[0]!.app.get(UnitOfWork).run((tx) => scheduler.schedule(tx, { key: `${kind}:due`, kind, dueAt: new Date(clock.now().getTime() + 1_000) }));
    clock.advance(2_000);
    try {
      await waitFor(() => fired.length === 1, 5_000, 'the timer, with the job still running');
      expect(fired).toEqual([`${kind}:due`]);
    } finally {
      release();
    }
  });

  it('keeps a timer across a restart: scheduled, every instance closed, a new one fires it', async () => {
    const kind = unique('test.restart.');
    const key = `${kind}:after-restart`;
    await cores[0]!.app
      .get(UnitOfWork)
      .run((tx) =>
        cores[0]!.app.get(SchedulerService).schedule(tx, { key, kind, dueAt: new Date(clock.now().getTime() + 10 * MINUTE), payload: { note: '重启 🔁' } }),
      );
    for (const core of cores) await core.close();
    cores = [];
    clock.advance(11 * MINUTE);

    cores.push(await start());
    if (name === 'mariadb+nats') cores.push(await start());
    dataSource = cores[0]!.app.get<DataSource>(DATA_SOURCE);
    const fired: Array<{ key: string; payload: unknown }> = [];
    for (const core of cores) {
      core.app.get(SchedulerService).onTimer(kind, async (payload, tx, timer) => {
        tx.afterCommit(() => fired.push({ key: timer.key, payload }));
      });
    }
    await waitFor(() => fired.length === 1, 15_000, 'the timer after the restart');
    await sleep(300);
    expect(fired).toEqual([{ key, payload: { note: '重启 🔁' } }]);
  });
});
