/**
 * Base error for everything the API reports on purpose. Each module defines its own
 * subclass with a closed set of codes so clients can branch on `code`, never on text.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export type PlatformErrorCode =
  | 'validation_failed'
  | 'not_found'
  | 'route_not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'malformed_json'
  | 'database_unavailable'
  | 'bus_unavailable'
  | 'conflict'
  | 'rate_limited'
  | 'internal_error';

export class PlatformError extends AppError {
  constructor(code: PlatformErrorCode, message: string, status: number, details?: unknown) {
    super(code, message, status, details);
  }
}

export class DatabaseUnavailableError extends PlatformError {
  constructor(cause?: unknown) {
    super('database_unavailable', 'The database is unavailable; retry shortly.', 503);
    if (cause !== undefined) this.cause = cause;
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_ACCESS_DENIED_ERROR',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
  'POOL_CLOSED',
  'SQLITE_BUSY',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
]);

/** True when an error means "the database could not be reached", as opposed to a bad query. */
export function isDatabaseConnectionError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; errno?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && CONNECTION_ERROR_CODES.has(candidate.code)) return true;
    if (typeof candidate.errno === 'number' && [2002, 2003, 2006, 2013, 1053, 1927].includes(candidate.errno)) return true;
    if (
      typeof candidate.message === 'string' &&
      /Pool is closed|connection is in closed state|Can't add new command when connection is in closed state|Connection lost/i.test(candidate.message)
    ) {
      return true;
    }
    current = candidate.driverError ?? candidate.cause;
  }
  return false;
}
