import { PlatformError } from '../../platform/errors/app-error.js';

/**
 * Opaque keyset cursors: base64url JSON of the last row's sort value and id. Shared by the
 * tickets, automation and CSAT list endpoints.
 */
export function encodeCursor(values: Array<string | number | null>): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, length: number): Array<string | number | null> {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(values) || values.length !== length || !values.every((v) => v === null || typeof v === 'string' || typeof v === 'number')) {
      throw new Error('shape');
    }
    return values as Array<string | number | null>;
  } catch {
    throw new PlatformError('validation_failed', 'The cursor is not valid; start again without it.', 400, {
      fields: [{ field: 'cursor', problems: ['invalid cursor'] }],
    });
  }
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}
