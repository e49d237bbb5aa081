import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from './database.tokens.js';
import { DatabaseUnavailableError, isDatabaseConnectionError } from '../errors/app-error.js';
import { OutboxWriter, type EventToEmit, type EmittedEvent } from '../outbox/outbox.writer.js';
import { OutboxSignal } from '../outbox/outbox.signal.js';

export interface Tx {
  readonly manager: EntityManager;
  /** Records a domain event in the outbox, in this transaction: it is published only if the transaction commits. */
  emit<T>(event: EventToEmit<T>): Promise<EmittedEvent<T>>;
  /** Runs after a successful commit (cache updates, wake-ups). Never for durable work. */
  afterCommit(callback: () => void): void;
}

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'SQLITE_BUSY']);

/**
 * The transaction helper. A domain write and its events commit together, deadlocks are
 * retried, and a lost database surfaces as a 503 error instead of a stack trace.
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger('unit-of-work');
  /** better-sqlite3 has one connection, so overlapping transactions must queue. */
  private sqliteQueue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly signal: OutboxSignal,
  ) {}

  get isMysql(): boolean {
    return this.dataSource.options.type === 'mysql' || this.dataSource.options.type === 'mariadb';
  }

  async run<T>(work: (tx: Tx) => Promise<T>, options: { attempts?: number } = {}): Promise<T> {
    if (!this.isMysql) {
      const next = this.sqliteQueue.then(
        () => this.attempt(work, options.attempts ?? 3),
        () => this.attempt(work, options.attempts ?? 3),
      );
      this.sqliteQueue = next.catch(() => undefined);
      return next;
    }
    return this.attempt(work, options.attempts ?? 3);
  }

  private async attempt<T>(work: (tx: Tx) => Promise<T>, attempts: number): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const callbacks: Array<() => void> = [];
      let emitted = 0;
      try {
        const result = await this.dataSource.transaction(async (manager) => {
          const tx: Tx = {
            manager,
            emit: async (event) => {
              emitted++;
              return this.outbox.append(manager, event);
            },
            afterCommit: (callback) => callbacks.push(callback),
          };
          return work(tx);
        });
        if (emitted > 0) this.signal.notify();
        for (const callback of callbacks) {
          try {
            callback();
          } catch (error) {
            this.logger.warn({ err: error }, 'afterCommit callback failed');
          }
        }
        return result;
      } catch (error) {
        const code = (error as { code?: string; driverError?: { code?: string } }).code ?? (error as { driverError?: { code?: string } }).driverError?.code;
        if (code && RETRYABLE.has(code) && attempt < attempts) {
          await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
          continue;
        }
        if (isDatabaseConnectionError(error)) throw new DatabaseUnavailableError(error);
        throw error;
      }
    }
  }
}
