import { Column, type ColumnOptions, type ValueTransformer } from 'typeorm';

/**
 * Entity-side twins of `portable-columns.ts`. TypeORM's decorators run before the engine
 * is known, so these choose types that both drivers read back identically.
 */
const jsonTransformer: ValueTransformer = {
  to: (value: unknown) => (value === undefined ? undefined : value === null ? null : JSON.stringify(value)),
  from: (value: unknown) => (value === null || value === undefined ? value : typeof value === 'string' ? JSON.parse(value) : value),
};

const dateTransformer: ValueTransformer = {
  to: (value: unknown) => value,
  // SQLite hands back strings; MySQL hands back Date objects. Both are UTC.
  from: (value: unknown) =>
    value === null || value === undefined
      ? value
      : value instanceof Date
        ? value
        : new Date(String(value).replace(' ', 'T') + (String(value).endsWith('Z') ? '' : 'Z')),
};

const bigintTransformer: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => (value === null || value === undefined ? value : Number(value)),
};

export const JsonColumn = (options: ColumnOptions = {}) => Column({ type: 'text', transformer: jsonTransformer, ...options });
export const TimestampColumn = (options: ColumnOptions = {}) => Column({ type: 'datetime', transformer: dateTransformer, ...options });
export const BigIntColumn = (options: ColumnOptions = {}) => Column({ type: 'bigint', transformer: bigintTransformer, ...options });
export const BoolColumn = (options: ColumnOptions = {}) =>
  Column({
    type: 'boolean',
    transformer: { to: (v: unknown) => v, from: (v: unknown) => (v === null || v === undefined ? v : Boolean(Number(v))) },
    ...options,
  });

/** A value a JSON column can hold. */
export type Json = string | number | boolean | null | object;
