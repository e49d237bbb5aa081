import type { DataSource } from 'typeorm';

/** The file behind an embedded SQLite data source; undefined on MySQL/MariaDB and for an in-memory database. */
export function sqliteFile(dataSource: DataSource): string | undefined {
  const options = dataSource.options;
  if (options.type !== 'better-sqlite3' || typeof options.database !== 'string') return undefined;
  return options.database === ':memory:' || options.database === '' ? undefined : options.database;
}

/** better-sqlite3's connection behind an initialised embedded data source (TypeORM does not expose it). */
export function sqliteConnection<Connection>(dataSource: DataSource): Connection {
  return (dataSource.driver as unknown as { databaseConnection: Connection }).databaseConnection;
}
