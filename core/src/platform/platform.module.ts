import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG } from './config/config.module.js';
import type { AppConfig } from './config/app-config.js';
import { DATA_SOURCE } from './database/database.tokens.js';
import { WalDurability } from './database/wal-durability.js';
import { WalCheckpointer } from './database/wal-checkpointer.js';
import { createDataSource, runMigrations } from './database/data-source.factory.js';
import { UnitOfWork } from './database/unit-of-work.js';
import { PipelinedTransactions } from './database/pipelined-transactions.js';
import { BUS, type Bus } from './bus/bus.port.js';
import { InProcessBus } from './bus/in-process.bus.js';
import { NatsBus } from './bus/nats.bus.js';
import { MetricsService } from './metrics/metrics.service.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { OutboxWriter } from './outbox/outbox.writer.js';
import { OutboxSignal } from './outbox/outbox.signal.js';
import { OutboxRelay } from './outbox/outbox.relay.js';
import { IdempotentConsumers } from './outbox/idempotent-consumers.js';
import { SchedulerService } from './scheduler/scheduler.service.js';
import { HealthController } from './health/health.controller.js';
import { HealthContributors } from './health/health-contributors.js';
import { CLOCK, systemClock } from './clock/clock.js';
import { sqlTime } from './database/sql-time.js';
import { DatabaseUnavailableError, isDatabaseConnectionError } from './errors/app-error.js';

@Injectable()
class PlatformLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('platform');

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: typeof systemClock,
    private readonly scheduler: SchedulerService,
  ) {}

  onModuleInit(): void {
    const retainMs = this.config.outbox.retainSentHours * 3_600_000;
    this.scheduler.every('outbox.purge-sent', 10 * 60_000, async () => {
      const cutoff = sqlTime(this.dataSource, new Date(this.clock.now().getTime() - retainMs));
      // READ COMMITTED on MySQL: no gap locks that would block commits inserting new outbox rows.
      const mysql = this.dataSource.options.type === 'mysql' || this.dataSource.options.type === 'mariadb';
      const purge = (manager: EntityManager) => manager.query('DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?', [cutoff]);
      await (mysql ? this.dataSource.transaction('READ COMMITTED', purge) : purge(this.dataSource.manager));
    });
  }

  /** Runs after every module stopped its consumers and loops (they stop in onModuleDestroy). */
  async onApplicationShutdown(): Promise<void> {
    await this.bus.close().catch((error: Error) => this.logger.warn({ reason: error.message }, 'bus close failed'));
    if (this.dataSource.isInitialized) await this.dataSource.destroy().catch(() => undefined);
  }
}

async function initialiseDataSource(config: AppConfig): Promise<DataSource> {
  const logger = new Logger('database');
  const dataSource = createDataSource(config.database);
  try {
    await dataSource.initialize();
  } catch (error) {
    if (isDatabaseConnectionError(error)) throw new DatabaseUnavailableError(error);
    throw error;
  }
  if (config.migrations.runAtStart) {
    const applied = await runMigrations(dataSource);
    if (applied.length) logger.log({ applied }, 'migrations applied');
  }
  return dataSource;
}

async function startBus(config: AppConfig, metrics: MetricsService): Promise<Bus> {
  const defaults = config.consumers;
  let bus: Bus;
  if (config.bus.kind === 'nats') {
    const nats = new NatsBus(config.bus, config.instanceId, metrics, defaults);
    // Started by ApplicationReadyHook once every module has subscribed.
    nats.groupEventConsumers();
    bus = nats;
  } else {
    bus = new InProcessBus(metrics, defaults);
  }
  await bus.start();
  return bus;
}

@Global()
@Module({
  controllers: [HealthController, MetricsController],
  providers: [
    { provide: CLOCK, useValue: systemClock },
    MetricsService,
    { provide: DATA_SOURCE, inject: [APP_CONFIG], useFactory: initialiseDataSource },
    { provide: BUS, inject: [APP_CONFIG, MetricsService], useFactory: startBus },
    OutboxWriter,
    OutboxSignal,
    WalDurability,
    WalCheckpointer,
    UnitOfWork,
    PipelinedTransactions,
    OutboxRelay,
    IdempotentConsumers,
    SchedulerService,
    HealthContributors,
    PlatformLifecycle,
  ],
  exports: [
    CLOCK,
    MetricsService,
    DATA_SOURCE,
    BUS,
    WalDurability,
    UnitOfWork,
    PipelinedTransactions,
    OutboxWriter,
    OutboxSignal,
    OutboxRelay,
    IdempotentConsumers,
    SchedulerService,
    HealthContributors,
  ],
})
export class PlatformModule {}
