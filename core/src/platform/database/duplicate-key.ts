const DUPLICATE_CODES = new Set(['ER_DUP_ENTRY', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT']);

/** A unique or primary key clash, on MySQL/MariaDB or SQLite (TypeORM wraps the driver error). */
export function isDuplicateKeyError(error: unknown): boolean {
  const candidate = error as { code?: string; driverError?: { code?: string } } | null | undefined;
  const code = candidate?.driverError?.code ?? candidate?.code;
  return Boolean(code && DUPLICATE_CODES.has(code));
}
