import type { DataSource, EntityManager } from 'typeorm';

/**
 * A Date as a query parameter both engines compare correctly with stored datetime columns:
 * mysql2 (timezone 'Z') takes Date objects; TypeORM stores SQLite datetimes as UTC text.
 */
export function sqlTime(source: DataSource | EntityManager, date: Date): Date | string {
  const type = ('connection' in source ? source.connection : source).options.type;
  if (type === 'mysql' || type === 'mariadb') return date;
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
