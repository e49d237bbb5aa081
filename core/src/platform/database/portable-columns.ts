import type { TableColumnOptions } from 'typeorm';
import type { QueryRunner } from 'typeorm';

/**
 * Column shapes that mean the same thing on SQLite and MySQL/MariaDB, so one migration
 * set serves both engines. Migrations use these; entities use the matching decorators
 * from `entity-columns.ts`.
 */
export function portable(queryRunner: QueryRunner) {
  const mysql = isMysql(queryRunner);
  return {
    mysql,
    /** Auto-increment 64-bit key. */
    serialKey: (name: string): TableColumnOptions => ({
      name,
      type: mysql ? 'bigint' : 'integer',
      isPrimary: true,
      isGenerated: true,
      generationStrategy: 'increment',
      unsigned: mysql ? true : undefined,
    }),
    uuid: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'varchar', length: '36', ...extra }),
    string: (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      ...extra,
    }),
    /** Up to 16 MB on MySQL (mediumtext); SQLite text is unbounded. */
    text: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: mysql ? 'mediumtext' : 'text', ...extra }),
    int: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'integer', ...extra }),
    bigint: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: mysql ? 'bigint' : 'integer', ...extra }),
    bool: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: mysql ? 'tinyint' : 'boolean', ...extra }),
    double: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: mysql ? 'double' : 'real', ...extra }),
    /** Millisecond UTC timestamps. */
    timestamp: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'datetime',
      precision: mysql ? 3 : undefined,
      ...extra,
    }),
  };
}

export function isMysql(queryRunner: QueryRunner): boolean {
  const type = queryRunner.connection.options.type;
  return type === 'mysql' || type === 'mariadb';
}
