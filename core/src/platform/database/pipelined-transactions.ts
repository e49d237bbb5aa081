import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { DATA_SOURCE } from './database.tokens.js';
import type { Statement } from './statement.js';
import { DatabaseUnavailableError, isDatabaseConnectionError } from '../errors/app-error.js';

/** A MySQL transaction whose statements travel several to a round trip. */
export interface PipelinedTransaction {
  /** Sends `statements` in one round trip and returns each one's result (rows for a SELECT), in order. */
  exchange(statements: readonly Statement[]): Promise<unknown[]>;
}

/** What a pipelined unit of work returns: its value, and the statements that end it (sent together with COMMIT). */
export interface PipelinedOutcome<T> {
  value: T;
  commit: readonly Statement[];
}

/** Connections kept for pipelined transactions; the message write path uses one per coalescing lane. */
const PIPELINE_CONNECTIONS = 8;

/**
 * Transactions for hot write paths on MySQL/MariaDB, sent as a few multi-statement round trips instead of
 * one round trip per statement. On this hardware a socket write costs tens of microseconds of CPU, more than
 * the statement itself, so `BEGIN; SELECT … FOR UPDATE` in one write and `UPDATE …; INSERT …; INSERT …;
 * COMMIT` in another is the difference between a few and a few dozen writes per batch.
 *
 * The pool is separate from TypeORM's and is the only one with `multipleStatements` on; everything sent
 * through it is generated SQL with bound parameters. Transactions run at READ COMMITTED: correctness rests
 * on row locks taken with `FOR UPDATE`, and no gap locks means no deadlocks against concurrent inserts.
 * Not available on SQLite, where there is no round trip to save.
 */
@Injectable()
export class PipelinedTransactions implements OnApplicationShutdown {
  private readonly logger = new Logger('pipelined-transactions');
  private pool?: Pool;
  private closed = false;

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  get available(): boolean {
    return !this.closed && (this.dataSource.options.type === 'mysql' || this.dataSource.options.type === 'mariadb');
  }

  async run<T>(work: (tx: PipelinedTransaction) => Promise<PipelinedOutcome<T>>): Promise<T> {
    if (!this.available) throw new Error('Pipelined transactions need MySQL/MariaDB');
    const connection = await this.connect();
    let begun = false;
    const exchange = async (statements: readonly Statement[]): Promise<unknown[]> => {
      const list = begun
        ? [...statements]
        : [{ sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED', params: [] }, { sql: 'START TRANSACTION', params: [] }, ...statements];
      begun = true;
      if (list.length === 0) return [];
      const [results] = await connection.query({
        sql: list.map((statement) => statement.sql).join(';\n'),
        values: list.flatMap((statement) => statement.params),
      });
      const all = list.length === 1 ? [results] : (results as unknown[]);
      return all.slice(all.length - statements.length);
    };
    try {
      const outcome = await work({ exchange });
      await exchange([...outcome.commit, { sql: 'COMMIT', params: [] }]);
      connection.release();
      return outcome.value;
    } catch (error) {
      if (begun && !isDatabaseConnectionError(error)) {
        await connection.query('ROLLBACK').then(
          () => connection.release(),
          () => connection.destroy(),
        );
      } else {
        connection.destroy();
      }
      if (isDatabaseConnectionError(error)) throw new DatabaseUnavailableError(error);
      throw error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end().catch((error: Error) => this.logger.warn({ reason: error.message }, 'closing the pipeline pool failed'));
  }

  private async connect(): Promise<PoolConnection> {
    if (!this.pool) {
      const { createPool } = await import('mysql2/promise');
      const options = this.dataSource.options as { url?: string; charset?: string; timezone?: string };
      // The same session settings as TypeORM's pool, so values read and written here match what it reads and writes.
      this.pool = createPool({
        uri: options.url,
        charset: options.charset,
        timezone: options.timezone,
        supportBigNumbers: true,
        bigNumberStrings: false,
        multipleStatements: true,
        connectionLimit: PIPELINE_CONNECTIONS,
        connectTimeout: 5000,
        enableKeepAlive: true,
        waitForConnections: true,
        queueLimit: 10_000,
        trace: false,
      } as Parameters<typeof createPool>[0]);
    }
    try {
      return await this.pool.getConnection();
    } catch (error) {
      if (isDatabaseConnectionError(error)) throw new DatabaseUnavailableError(error);
      throw error;
    }
  }
}
