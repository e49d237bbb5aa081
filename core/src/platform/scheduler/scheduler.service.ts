import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../database/database.tokens.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { CLOCK, type Clock } from '../clock/clock.js';
import { UnitOfWork, type Tx } from '../database/unit-of-work.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SchedulerJobRow, SchedulerTimerRow } from './scheduler.entities.js';
import type { Json } from '../database/entity-columns.js';
import { sqlTime } from '../database/sql-time.js';

type JobHandler = () => Promise<void>;
type TimerHandler = (payload: unknown, tx: Tx, timer: { key: string; dueAt: Date }) => Promise<void>;

export interface TimerSpec {
  /** Unique per logical timer, e.g. `sla:first-response:T-1042`. Re-scheduling a key moves it. */
  key: string;
  kind: string;
  dueAt: Date;
  payload?: Json;
}

/**
 * Cluster-safe periodic jobs and one-shot timers, claimed in the database so each runs
 * exactly once across all core instances.
 *
 * - A periodic job's row is claimed by one conditional UPDATE that also advances `next_run_at`:
 *   whichever instance's UPDATE matches runs that period.
 * - A timer's handler runs in the transaction that marks it fired, so its effects and the
 *   "fired" mark commit together; a crash mid-run leaves it unfired for another instance.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('scheduler');
  private readonly jobs = new Map<string, { intervalMs: number; handler: JobHandler }>();
  private readonly timerHandlers = new Map<string, TimerHandler>();
  /** Jobs whose database row this instance has not ensured yet. */
  private readonly unregistered = new Set<string>();
  private running = false;
  private loop?: Promise<void>;
  private readonly activeJobs = new Map<string, Promise<void>>();
  /**
   * Per job, a time before which its claim cannot succeed (epoch ms): `next_run_at` only moves forward, so
   * the last value seen is a lower bound, and a pass skips the claim's UPDATE until then. Timers poke the
   * loop on every `schedule`, so without this each pass sent one UPDATE per registered job.
   */
  private readonly notBefore = new Map<string, number>();
  private wake?: () => void;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly metrics: MetricsService,
  ) {}

  /** Registers a periodic job. Usually called during module init; later calls work too (the row is created on the next pass). */
  every(name: string, intervalMs: number, handler: JobHandler): void {
    this.jobs.set(name, { intervalMs, handler });
    this.unregistered.add(name);
    this.poke();
  }

  /** Registers the handler for a timer kind. */
  onTimer(kind: string, handler: TimerHandler): void {
    this.timerHandlers.set(kind, handler);
  }

  /** Creates or moves a timer, inside the caller's transaction. */
  async schedule(tx: Tx | EntityManager, timer: TimerSpec): Promise<void> {
    const manager = 'manager' in tx ? tx.manager : tx;
    const existing = await manager.findOne(SchedulerTimerRow, { where: { key: timer.key } });
    if (existing) {
      await manager.update(
        SchedulerTimerRow,
        { id: existing.id },
        {
          kind: timer.kind,
          dueAt: timer.dueAt,
          payload: timer.payload ?? null,
          firedAt: null,
          claimedBy: null,
          claimedUntil: null,
          attempts: 0,
          lastError: null,
        },
      );
    } else {
      await manager.insert(SchedulerTimerRow, {
        key: timer.key,
        kind: timer.kind,
        dueAt: timer.dueAt,
        payload: timer.payload ?? null,
        claimedBy: null,
        claimedUntil: null,
        firedAt: null,
        attempts: 0,
        lastError: null,
      });
    }
    this.poke();
  }

  async cancel(tx: Tx | EntityManager, key: string): Promise<void> {
    const manager = 'manager' in tx ? tx.manager : tx;
    // IsNull(): a plain `null` in the criteria never matched (or is refused), so cancel did nothing.
    await manager.delete(SchedulerTimerRow, { key, firedAt: IsNull() });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.running = true;
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    this.poke();
    await this.loop;
    await Promise.allSettled([...this.activeJobs.values()]);
  }

  private poke(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.unregistered.size > 0) await this.registerJobs();
        // Jobs run beside the loop: a long job (a delivery backlog, a dispatch pass) must not hold back
        // timers that fall due meanwhile (an agent's offline grace, SLA warnings, flow timeouts).
        this.startDueJobs();
        await this.fireDueTimers();
      } catch (error) {
        this.logger.warn({ reason: (error as Error).message }, 'scheduler tick failed');
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.config.scheduler.pollIntervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async registerJobs(): Promise<void> {
    for (const name of [...this.unregistered]) {
      const job = this.jobs.get(name)!;
      const existing = await this.dataSource.manager.findOne(SchedulerJobRow, { where: { name } });
      if (existing) {
        if (existing.intervalMs !== job.intervalMs) await this.dataSource.manager.update(SchedulerJobRow, { name }, { intervalMs: job.intervalMs });
      } else {
        try {
          await this.dataSource.manager.insert(SchedulerJobRow, {
            name,
            intervalMs: job.intervalMs,
            nextRunAt: this.clock.now(),
            lockedBy: null,
            lockedUntil: null,
            lastRunAt: null,
            lastOutcome: null,
            runCount: 0,
          });
        } catch (error) {
          // Another instance inserted it first; anything else is retried on the next pass.
          if (!(await this.dataSource.manager.exists(SchedulerJobRow, { where: { name } }))) throw error;
        }
      }
      this.unregistered.delete(name);
    }
  }

  /** One pass over due jobs and timers, resolved when both are done. Public so tests can drive it. */
  async tick(): Promise<void> {
    const jobs = this.startDueJobs();
    await this.fireDueTimers();
    await Promise.all(jobs);
  }

  /** Starts every job that is not already running on this instance; the lease keeps other instances out. */
  private startDueJobs(): Array<Promise<void>> {
    const runs: Array<Promise<void>> = [];
    const now = this.clock.now().getTime();
    for (const [name, job] of this.jobs) {
      if (this.unregistered.has(name)) continue;
      if (now < (this.notBefore.get(name) ?? 0)) continue;
      let run = this.activeJobs.get(name);
      if (!run) {
        run = this.tryRunJob(name, job.intervalMs, job.handler)
          .catch((error: Error) => this.logger.warn({ job: name, reason: error.message }, 'scheduled job could not run'))
          .finally(() => this.activeJobs.delete(name));
        this.activeJobs.set(name, run);
      }
      runs.push(run);
    }
    return runs;
  }

  private async tryRunJob(name: string, intervalMs: number, handler: JobHandler): Promise<void> {
    const now = this.clock.now();
    const me = this.config.instanceId;
    const result = await this.dataSource
      .createQueryBuilder()
      .update(SchedulerJobRow)
      .set({
        lockedBy: me,
        lockedUntil: new Date(now.getTime() + this.config.scheduler.leaseMs),
        nextRunAt: new Date(now.getTime() + intervalMs),
      })
      .where('name = :name', { name })
      .andWhere('next_run_at <= :now', { now: sqlTime(this.dataSource, now) })
      .andWhere('(locked_until IS NULL OR locked_until < :now)', { now: sqlTime(this.dataSource, now) })
      .execute();
    if (result.affected !== 1) {
      await this.learnNextRun(name);
      return;
    }
    this.notBefore.set(name, now.getTime() + intervalMs);
    let outcome = 'ok';
    try {
      await handler();
      this.metrics.schedulerRuns.inc({ job: name, outcome: 'ok' });
    } catch (error) {
      outcome = `failed: ${(error as Error).message}`.slice(0, 500);
      this.metrics.schedulerRuns.inc({ job: name, outcome: 'failed' });
      this.logger.warn({ job: name, reason: (error as Error).message }, 'scheduled job failed');
    }
    await this.dataSource
      .createQueryBuilder()
      .update(SchedulerJobRow)
      .set({ lockedBy: null, lockedUntil: null, lastRunAt: this.clock.now(), lastOutcome: outcome, runCount: () => 'run_count + 1' })
      .where('name = :name AND locked_by = :me', { name, me })
      .execute();
  }

  /** After a claim that did not match (not due yet, or another instance holds it): when to try again. */
  private async learnNextRun(name: string): Promise<void> {
    const row = await this.dataSource.manager.findOne(SchedulerJobRow, { where: { name }, select: { name: true, nextRunAt: true, lockedUntil: true } });
    if (!row) return;
    this.notBefore.set(name, Math.max(row.nextRunAt.getTime(), row.lockedUntil?.getTime() ?? 0));
  }

  private async fireDueTimers(): Promise<void> {
    const now = this.clock.now();
    const nowParam = sqlTime(this.dataSource, now);
    const due = await this.dataSource
      .createQueryBuilder(SchedulerTimerRow, 't')
      .select(['t.id', 't.kind'])
      .where('t.fired_at IS NULL')
      .andWhere('t.due_at <= :now', { now: nowParam })
      .andWhere('(t.claimed_until IS NULL OR t.claimed_until < :now)', { now: nowParam })
      .orderBy('t.due_at', 'ASC')
      .limit(100)
      .getMany();
    for (const candidate of due) {
      if (!this.running && this.loop) return;
      if (!this.timerHandlers.has(candidate.kind)) continue;
      await this.fireOne(candidate.id);
    }
  }

  private async fireOne(id: number): Promise<void> {
    const me = this.config.instanceId;
    const now = this.clock.now();
    const claim = await this.dataSource
      .createQueryBuilder()
      .update(SchedulerTimerRow)
      .set({ claimedBy: me, claimedUntil: new Date(now.getTime() + this.config.scheduler.leaseMs) })
      .where('id = :id AND fired_at IS NULL', { id })
      .andWhere('(claimed_until IS NULL OR claimed_until < :now)', { now: sqlTime(this.dataSource, now) })
      .execute();
    if (claim.affected !== 1) return;
    const timer = await this.dataSource.manager.findOneOrFail(SchedulerTimerRow, { where: { id } });
    const handler = this.timerHandlers.get(timer.kind)!;
    try {
      await this.uow.run(async (tx) => {
        await handler(timer.payload, tx, { key: timer.key, dueAt: timer.dueAt });
        const marked = await tx.manager
          .createQueryBuilder()
          .update(SchedulerTimerRow)
          .set({ firedAt: this.clock.now(), claimedUntil: null })
          .where('id = :id AND claimed_by = :me AND fired_at IS NULL', { id, me })
          .execute();
        if (marked.affected !== 1) throw new Error('timer claim lost before commit');
      });
      this.metrics.schedulerRuns.inc({ job: `timer:${timer.kind}`, outcome: 'ok' });
    } catch (error) {
      this.metrics.schedulerRuns.inc({ job: `timer:${timer.kind}`, outcome: 'failed' });
      const backoffMs = Math.min(300_000, 1000 * 2 ** Math.min(timer.attempts, 8));
      this.logger.warn({ timer: timer.key, reason: (error as Error).message, backoffMs }, 'timer handler failed; will retry');
      await this.dataSource
        .createQueryBuilder()
        .update(SchedulerTimerRow)
        .set({
          claimedUntil: new Date(this.clock.now().getTime() + backoffMs),
          attempts: () => 'attempts + 1',
          lastError: (error as Error).message.slice(0, 500),
        })
        .where('id = :id AND claimed_by = :me', { id, me })
        .execute()
        .catch(() => undefined);
    }
  }
}
