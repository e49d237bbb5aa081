import { AppError } from '../platform/errors/app-error.js';

/** Opaque keyset cursor: the sort value and id of the last row of a page. */
export interface Cursor {
  v: string | number | null;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeCursor(text: string | undefined): Cursor | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.id !== 'string') throw new Error('shape');
    if (parsed.v !== null && typeof parsed.v !== 'string' && typeof parsed.v !== 'number') throw new Error('shape');
    return parsed;
  } catch {
    throw new AppError('invalid_cursor', 'The cursor is not valid; start again without it.', 400);
  }
}

export interface SortSpec<F extends string> {
  field: F;
  direction: 'ASC' | 'DESC';
}

/** `-createdAt` → createdAt DESC. Only allow-listed fields. */
export function parseSort<F extends string>(text: string | undefined, allowed: readonly F[], fallback: SortSpec<F>): SortSpec<F> {
  if (!text) return fallback;
  const direction = text.startsWith('-') ? 'DESC' : 'ASC';
  const field = text.replace(/^[-+]/, '') as F;
  if (!allowed.includes(field)) {
    throw new AppError('invalid_sort', `Sorting by "${field}" is not supported; use one of ${allowed.join(', ')} (prefix "-" for descending).`, 400, {
      allowed,
    });
  }
  return { field, direction };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
