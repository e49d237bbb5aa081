import type { Condition, Conditions } from './automation.types.js';

/** Reads `a.b.c` from a plain object; never walks prototypes. */
export function readPath(context: Record<string, unknown>, path: string): unknown {
  let current: unknown = context;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const norm = (value: unknown): unknown => (typeof value === 'string' ? value.toLowerCase() : value);

/** Field comparisons. String comparisons ignore case; `contains` works on text and on lists. */
export function holds(condition: Condition, context: Record<string, unknown>): boolean {
  const actual = readPath(context, condition.field);
  const expected = condition.value;
  switch (condition.op) {
    case 'exists':
      return actual !== undefined && actual !== null && actual !== '';
    case 'not_exists':
      return actual === undefined || actual === null || actual === '';
    case 'eq':
      return norm(actual) === norm(expected);
    case 'neq':
      return norm(actual) !== norm(expected);
    case 'in':
      return Array.isArray(expected) && expected.map(norm).includes(norm(actual));
    case 'not_in':
      return Array.isArray(expected) && !expected.map(norm).includes(norm(actual));
    case 'contains':
    case 'not_contains': {
      let found = false;
      if (Array.isArray(actual)) found = actual.map(norm).includes(norm(expected));
      else if (typeof actual === 'string' && typeof expected === 'string') found = actual.toLowerCase().includes(expected.toLowerCase());
      return condition.op === 'contains' ? found : !found;
    }
    case 'starts_with':
      return typeof actual === 'string' && typeof expected === 'string' && actual.toLowerCase().startsWith(expected.toLowerCase());
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const a = typeof actual === 'number' ? actual : typeof actual === 'string' ? Date.parse(actual) : NaN;
      const b = typeof expected === 'number' ? expected : typeof expected === 'string' ? Date.parse(expected) : NaN;
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return condition.op === 'gt' ? a > b : condition.op === 'gte' ? a >= b : condition.op === 'lt' ? a < b : a <= b;
    }
  }
}

export function matches(conditions: Conditions, context: Record<string, unknown>): boolean {
  const all = conditions.all ?? [];
  const any = conditions.any ?? [];
  if (!all.every((condition) => holds(condition, context))) return false;
  return any.length === 0 || any.some((condition) => holds(condition, context));
}
