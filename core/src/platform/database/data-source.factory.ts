import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { ALL_ENTITIES } from '../../entities.js';
import { ALL_MIGRATIONS } from '../../migrations.js';

type EntityList = MixedList<string | (new (...args: never[]) => unknown) | EntitySchema>;

export interface DataSourceFactoryOptions {
  entities?: EntityList;
  migrations?: MixedList<string | (new (...args: never[]) => unknown)>;
}

export function buildDataSourceOptions(config: DatabaseConfig, options: DataSourceFactoryOptions = {}): DataSourceOptions {
  const common = {
    entities: options.entities ?? ALL_ENTITIES,
    migrations: options.migrations ?? ALL_MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: false,
  };
  if (config.kind === 'sqlite') {
    if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: config.path,
      // TypeORM's default keeps 100 prepared statements; multi-row inserts and IN lists alone make more
      // distinct texts than that, and a miss re-prepares on the event loop.
      statementCacheSize: 2000,
      // WAL lets readers proceed during a write. NORMAL: a COMMIT writes the log without an fsync, which
      // never corrupts the file; WalDurability fsyncs the log off the event loop before anything
      // committed is acknowledged or published.
      prepareDatabase: (db: { pragma: (statement: string) => unknown }) => {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        // A 64 MB page cache instead of SQLite's 2 MB: the hot tables and indexes of a busy site stay in memory.
        db.pragma('cache_size = -65536');
        db.pragma('busy_timeout = 5000');
        db.pragma('foreign_keys = ON');
      },
    } as DataSourceOptions;
  }
  return {
    ...common,
    type: 'mysql',
    url: config.url.replace(/^mariadb:/, 'mysql:'),
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    poolSize: config.poolSize,
    extra: {
      connectionLimit: config.poolSize,
      connectTimeout: 5000,
      enableKeepAlive: true,
      // Bounded, so a dead server fails requests (503) instead of queueing them forever, but deep enough for a
      // burst: 200 agents reconnecting after a restart subscribe to 2,000 conversations at once.
      queueLimit: 10_000,
      waitForConnections: true,
      // mysql2 otherwise captures a stack trace for every query (Error.captureStackTrace with deep async
      // stacks): 15 % of the core's CPU under message load. TypeORM's QueryFailedError still names the query.
      trace: false,
    },
  } as DataSourceOptions;
}

export function createDataSource(config: DatabaseConfig, options: DataSourceFactoryOptions = {}): DataSource {
  return new DataSource(buildDataSourceOptions(config, options));
}

/**
 * Runs pending migrations. On MySQL the database default charset is forced to utf8mb4 first,
 * so every table created afterwards stores Chinese text and emoji intact.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  if (dataSource.options.type === 'mysql' || dataSource.options.type === 'mariadb') {
    await dataSource.query('ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
  }
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((migration) => migration.name);
}
