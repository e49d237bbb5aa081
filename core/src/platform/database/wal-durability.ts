import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from './database.tokens.js';
import { sqliteConnection, sqliteFile } from './sqlite-handle.js';

interface ChangeCounter {
  pluck(): { get(): unknown };
}

interface SqliteHandle {
  readonly inTransaction: boolean;
  prepare(sql: string): ChangeCounter;
}

/**
 * Group commit for the embedded SQLite database, with the fsync off the event loop.
 *
 * better-sqlite3 is synchronous: with `synchronous = FULL` every COMMIT blocked the main thread for
 * an fsync of the write-ahead log (0.2–0.3 ms here, eight or more per customer message), which made
 * commits the largest single cost of the embedded core under load. The connection therefore runs
 * with `synchronous = NORMAL`, where a COMMIT only writes the log, and durability is restored here:
 * `barrier()` resolves once an fsync of the log that started after the call has finished. The fsync
 * runs in libuv's thread pool, and every caller waiting at the same time shares one.
 *
 * Why this keeps "nothing acknowledged is lost": the log is sequential, so a power loss can only
 * drop a suffix of commits, and the database stays consistent (SQLite's guarantee in WAL mode with
 * NORMAL). `UnitOfWork.run` waits for the barrier before it returns, so everything a caller can
 * acknowledge (an HTTP 202, a WebSocket ack, an RPC answer to a plugin) is on disk first, and the
 * outbox relay waits for it before it publishes, so no event leaves for a commit that could still
 * roll back. Work that was neither acknowledged nor published may be lost in a power cut and is
 * redone: its events are still in the outbox and consumers are idempotent.
 *
 * A no-op on MySQL/MariaDB and for in-memory SQLite.
 */
@Injectable()
export class WalDurability implements OnApplicationShutdown {
  /** Writes made outside `UnitOfWork` (plugin key-value entries, delivery logs) are on disk within this long. */
  static readonly SWEEP_MS = 1000;
  private sweeper?: NodeJS.Timeout;

  private readonly logger = new Logger('database');
  private readonly walPath?: string;
  private handle?: SqliteHandle;
  private counter?: { get(): unknown };
  /** The change count last seen with no transaction open: all of those changes were committed (or rolled back). */
  private settledChanges = 0;
  private wal?: FileHandle;
  /** Changes counted when the last completed fsync started: everything up to there is on disk. */
  private durableChanges = 0;
  private inFlight?: { startedAt: number; done: Promise<void> };
  private next?: Promise<void>;

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {
    const file = sqliteFile(dataSource);
    if (file) this.walPath = `${file}-wal`;
  }

  get active(): boolean {
    return this.walPath !== undefined;
  }

  /** Resolves when every commit made before the call is on disk. */
  barrier(): Promise<void> {
    if (!this.walPath) return Promise.resolve();
    this.sweeper ??= setInterval(() => this.sweep(), WalDurability.SWEEP_MS).unref();
    const changes = this.changes();
    if (changes <= this.durableChanges) return Promise.resolve();
    // An fsync that started after these changes covers them; one that started before does not.
    if (this.inFlight && this.inFlight.startedAt >= changes) return this.inFlight.done;
    if (!this.inFlight) return this.startSync();
    // Everyone arriving while an fsync runs shares the one that follows it.
    this.next ??= this.inFlight.done.then(
      () => this.afterCurrent(),
      () => this.afterCurrent(),
    );
    return this.next;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    if (!this.walPath || !this.dataSource.isInitialized) return;
    await this.barrier().catch((error: unknown) => this.logger.error({ err: error }, 'final WAL sync failed'));
    await this.wal?.close().catch(() => undefined);
    this.wal = undefined;
  }

  private sweep(): void {
    if (!this.dataSource.isInitialized) return clearInterval(this.sweeper);
    try {
      this.barrier().catch((error: unknown) => this.logger.error({ err: error }, 'WAL sync failed'));
    } catch (error) {
      this.logger.error({ err: error }, 'WAL sync failed');
    }
  }

  private afterCurrent(): Promise<void> {
    this.next = undefined;
    return this.startSync();
  }

  private startSync(): Promise<void> {
    // Changes of a transaction still open are not in the log yet, so they cannot count as covered.
    const current = this.changes();
    if (!this.handle!.inTransaction) this.settledChanges = current;
    const startedAt = this.settledChanges;
    const done = this.syncLog().then(
      () => {
        this.durableChanges = Math.max(this.durableChanges, startedAt);
        this.inFlight = undefined;
      },
      (error: unknown) => {
        this.inFlight = undefined;
        throw error;
      },
    );
    this.inFlight = { startedAt, done };
    return done;
  }

  /** One fsync of the write-ahead log (and, the first time, of its directory). */
  protected async syncLog(): Promise<void> {
    if (!this.wal) {
      try {
        this.wal = await open(this.walPath!, 'r+');
      } catch (error) {
        // No log yet: nothing has been committed through it.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      // A newly created file is durable only once its directory entry is.
      const directory = await open(dirname(this.walPath!), 'r');
      await directory.sync().finally(() => directory.close());
    }
    await this.wal.sync();
  }

  /** SQLite's count of rows changed on this connection since it opened: a commit moves it forward. */
  private changes(): number {
    if (!this.counter) {
      this.handle = sqliteConnection<SqliteHandle>(this.dataSource);
      this.counter = this.handle.prepare('SELECT total_changes()').pluck();
    }
    return Number(this.counter.get());
  }
}
