import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from './database.tokens.js';
import { sqliteConnection, sqliteFile } from './sqlite-handle.js';

interface PragmaHandle {
  pragma(statement: string): unknown;
}

/** SQLite's default: a COMMIT that finds at least this many pages in the log checkpoints it, inline. */
const AUTOCHECKPOINT_PAGES = 1000;

/**
 * The checkpointer runs in its own thread, on its own connection: PASSIVE never blocks the writer, and
 * its fsyncs of the log and the database file happen there. Each round copies what the log holds.
 */
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
const round = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (result && result.log > 0) parentPort.postMessage({ type: 'checkpointed', log: result.log, checkpointed: result.checkpointed });
  } catch (error) {
    parentPort.postMessage({ type: 'failed', message: String(error && error.message) });
  }
};
const timer = setInterval(round, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  round();
  db.close();
  parentPort.close();
});
`;

/**
 * Moves SQLite's WAL checkpoints off the event loop.
 *
 * By default the COMMIT that finds 1,000 pages in the log copies them into the database file and fsyncs
 * both, on the connection's thread: with better-sqlite3 that is the core's only thread, and under message
 * load one commit in ninety took 1–11 ms (measured: 408 of 950 ms spent in COMMIT at 200 messages/s went
 * to those). Here the connection's automatic checkpoints are turned off and a worker thread with its own
 * connection runs a PASSIVE checkpoint every `intervalMs`. If the worker fails, automatic checkpoints are
 * turned back on, so the log cannot grow without bound.
 *
 * Only for a file database in a process that serves (started by the application's bootstrap, so CLI
 * commands that open the database briefly keep SQLite's defaults).
 */
@Injectable()
export class WalCheckpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  static readonly INTERVAL_MS = 100;
  private readonly logger = new Logger('database');
  private worker?: Worker;
  private exited?: Promise<void>;
  /** Pages copied into the database file by the worker (for tests and metrics). */
  checkpointedPages = 0;

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  private get connection(): PragmaHandle {
    return sqliteConnection<PragmaHandle>(this.dataSource);
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  onApplicationBootstrap(): void {
    const path = sqliteFile(this.dataSource);
    if (!path) return;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(CHECKPOINT_WORKER, { eval: true, workerData: { path, driver, intervalMs: WalCheckpointer.INTERVAL_MS } });
    worker.unref();
    this.worker = worker;
    this.connection.pragma('wal_autocheckpoint = 0');
    worker.on('message', (message: { type: string; checkpointed?: number; message?: string }) => {
      if (message.type === 'checkpointed') this.checkpointedPages += message.checkpointed ?? 0;
      else if (message.type === 'failed') this.logger.warn({ reason: message.message }, 'WAL checkpoint failed; retrying');
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.logger.error({ code }, 'WAL checkpoint thread stopped; SQLite checkpoints inline again');
          this.restoreAutocheckpoint();
        }
        resolve();
      });
      worker.once('error', (error) => this.logger.error({ err: error }, 'WAL checkpoint thread failed'));
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    worker.postMessage('stop');
    await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    this.restoreAutocheckpoint();
  }

  private restoreAutocheckpoint(): void {
    if (this.dataSource.isInitialized) this.connection.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  }
}
