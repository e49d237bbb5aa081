import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { DATA_SOURCE } from './database.tokens.js';
import { DatabaseUnavailableError, isDatabaseConnectionError } from '../errors/app-error.js';
import { OutboxWriter, type EventToEmit, type EmittedEvent } from '../outbox/outbox.writer.js';
import { OutboxSignal } from '../outbox/outbox.signal.js';
import type { OutboxRow } from '../outbox/outbox.entity.js';
import { RowInserter } from './row-inserter.js';
import { LaneBatcher } from './lane-batcher.js';
import { WalDurability } from './wal-durability.js';

export interface Tx {
  readonly manager: EntityManager;
  /**
   * Inserts rows without a read-back, in one statement per column set: the path for hot writes.
   * Client-generated values (UUID keys, create dates) are filled in and written back onto the rows.
   */
  insert<Entity extends ObjectLiteral>(target: EntityTarget<Entity>, rows: Entity | readonly Entity[]): Promise<void>;
  /** Records a domain event in the outbox, in this transaction: it is published only if the transaction commits. */
  emit<T>(event: EventToEmit<T>): Promise<EmittedEvent<T>>;
  /** Runs after a successful commit (cache updates, wake-ups). Never for durable work. */
  afterCommit(callback: () => void): void;
}

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'SQLITE_BUSY']);

export interface RunOptions {
  /** Attempts on a deadlock or lock timeout (default 3). */
  attempts?: number;
  /** A lane key (e.g. the conversation id): concurrent units with coalescing share transactions. See `run`. */
  coalesce?: string;
}

/** Lanes per instance on MySQL: several transactions in flight, each carrying a batch. SQLite has one connection. */
const COALESCE_LANES = 8;
/** Upper bound on units in one shared transaction, so locks are held briefly and a failed batch re-runs cheaply. */
const MAX_COALESCED_UNITS = 16;

interface PendingUnit {
  work: (tx: Tx) => Promise<unknown>;
  attempts: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The transaction helper. A domain write and its events commit together, deadlocks are
 * retried, and a lost database surfaces as a 503 error instead of a stack trace.
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger('unit-of-work');
  /** better-sqlite3 has one connection, so overlapping transactions must queue. */
  private sqliteQueue: Promise<unknown> = Promise.resolve();
  private readonly inserter = new RowInserter();
  private readonly lanes: LaneBatcher<PendingUnit>;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly signal: OutboxSignal,
    private readonly durability: WalDurability,
  ) {
    this.lanes = new LaneBatcher<PendingUnit>(
      this.isMysql ? COALESCE_LANES : 1,
      MAX_COALESCED_UNITS,
      (batch) => this.runShared(batch),
      (error) => this.logger.error({ err: error }, 'coalesced batch failed unexpectedly'),
    );
  }

  get isMysql(): boolean {
    return this.dataSource.options.type === 'mysql' || this.dataSource.options.type === 'mariadb';
  }

  /**
   * Runs `work` in a transaction: its writes and emitted events commit together or not at all.
   *
   * With `coalesce`, concurrent units that name the same lane key share transactions ("group commit"):
   * while one transaction of that lane is in flight, newcomers queue, and the queue then runs as one
   * transaction, each unit in turn. That trades one commit (and, on MySQL, one log flush) per unit for
   * one per batch. Units with the same key always share a lane, so they never wait on each other's
   * row locks from another connection. If anything in a shared transaction fails, nothing of it is
   * committed and every unit runs again alone, so each caller still sees only its own outcome.
   * Only for units that do all their writes through `tx` (no nested `run`), since a nested
   * transaction could wait on a lock a neighbour in the batch holds.
   */
  async run<T>(work: (tx: Tx) => Promise<T>, options: RunOptions = {}): Promise<T> {
    if (options.coalesce !== undefined) return this.coalesced(work, options.coalesce, options.attempts ?? 3);
    if (!this.isMysql) {
      const next = this.sqliteQueue.then(
        () => this.attempt(work, options.attempts ?? 3),
        () => this.attempt(work, options.attempts ?? 3),
      );
      this.sqliteQueue = next.catch(() => undefined);
      // Outside the queue: the next transaction runs while this one's fsync is in flight, and shares it.
      return next.then(async (result) => {
        await this.durability.barrier();
        return result;
      });
    }
    return this.attempt(work, options.attempts ?? 3);
  }

  private coalesced<T>(work: (tx: Tx) => Promise<T>, key: string, attempts: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.lanes.push(key, { work: work as (tx: Tx) => Promise<unknown>, attempts, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private async runShared(batch: PendingUnit[]): Promise<void> {
    if (batch.length === 1) {
      const [unit] = batch;
      await this.run(unit!.work, { attempts: unit!.attempts }).then(unit!.resolve, unit!.reject);
      return;
    }
    let results: unknown[];
    try {
      results = await this.run(async (tx) => {
        const outcomes: unknown[] = [];
        for (const unit of batch) outcomes.push(await unit.work(tx));
        return outcomes;
      });
    } catch {
      // Nothing of the shared transaction committed: each unit runs alone and meets its own fate.
      await Promise.all(batch.map((unit) => this.run(unit.work, { attempts: unit.attempts }).then(unit.resolve, unit.reject)));
      return;
    }
    batch.forEach((unit, position) => unit.resolve(results[position]));
  }

  private async attempt<T>(work: (tx: Tx) => Promise<T>, attempts: number): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const callbacks: Array<() => void> = [];
      // Events are validated when emitted and written together just before the commit: one statement
      // per transaction however many events it emits (nothing reads the outbox inside a transaction).
      const events: OutboxRow[] = [];
      try {
        const result = await this.dataSource.transaction(async (manager) => {
          const value = await work(this.txFor(manager, events, callbacks));
          if (events.length > 0) await this.outbox.write(manager, events);
          return value;
        });
        this.signal.committed(events);
        this.runCallbacks(callbacks);
        return result;
      } catch (error) {
        const code = errorCode(error);
        if (code && RETRYABLE.has(code) && attempt < attempts) {
          await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
          continue;
        }
        if (isDatabaseConnectionError(error)) throw new DatabaseUnavailableError(error);
        throw error;
      }
    }
  }

  private txFor(manager: EntityManager, events: OutboxRow[], callbacks: Array<() => void>): Tx {
    return {
      manager,
      insert: (target, rows) => this.inserter.insert(manager, target, rows),
      emit: async (event) => {
        const { row, envelope } = this.outbox.prepare(event);
        events.push(row);
        return envelope;
      },
      afterCommit: (callback) => callbacks.push(callback),
    };
  }

  private runCallbacks(callbacks: Array<() => void>): void {
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        this.logger.warn({ err: error }, 'afterCommit callback failed');
      }
    }
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string; driverError?: { code?: string } }).code ?? (error as { driverError?: { code?: string } }).driverError?.code;
}
