import { Transform } from 'class-transformer';

/** `?status=open,pending` or repeated `?status=open&status=pending` → `['open','pending']`. */
export const CsvList = () =>
  Transform(({ value }: { value: unknown }) => {
    if (value === undefined || value === null || value === '') return undefined;
    const items = Array.isArray(value) ? value : [value];
    return items
      .flatMap((item) => String(item).split(','))
      .map((item) => item.trim())
      .filter(Boolean);
  });

/** Query-string integers (implicit conversion is off globally). */
export const QueryInt = () =>
  Transform(({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value));

export const QueryBool = () => Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
