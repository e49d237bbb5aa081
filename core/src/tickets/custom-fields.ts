import type { TicketFieldRow } from './entities/ticket-parts.entity.js';
import { TicketsError } from './tickets.error.js';

export type CustomValue = string | number | boolean | null;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Checks ticket custom-field values against the typed schema. Unknown keys and wrong types
 * are rejected (400 `ticket_custom_field_invalid`, naming each field); `null` clears a value.
 * On create, required active fields must be present.
 */
export function validateCustomFields(definitions: TicketFieldRow[], values: Record<string, unknown>, mode: 'create' | 'update'): Record<string, CustomValue> {
  const byKey = new Map(definitions.filter((d) => d.active).map((d) => [d.key, d]));
  const problems: Array<{ field: string; problem: string }> = [];
  const result: Record<string, CustomValue> = {};
  for (const [key, value] of Object.entries(values)) {
    const definition = byKey.get(key);
    if (!definition) {
      problems.push({ field: key, problem: 'is not a ticket field' });
      continue;
    }
    if (value === null) {
      if (definition.required) problems.push({ field: key, problem: 'is required' });
      else result[key] = null;
      continue;
    }
    const problem = checkValue(definition, value);
    if (problem) problems.push({ field: key, problem });
    else result[key] = value as CustomValue;
  }
  if (mode === 'create') {
    for (const definition of byKey.values()) {
      if (
        definition.required &&
        (values[definition.key] === undefined || values[definition.key] === null) &&
        !problems.some((p) => p.field === definition.key)
      ) {
        problems.push({ field: definition.key, problem: 'is required' });
      }
    }
  }
  if (problems.length) {
    throw new TicketsError('ticket_custom_field_invalid', `Invalid custom field(s): ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`, {
      fields: problems,
    });
  }
  return result;
}

function checkValue(definition: TicketFieldRow, value: unknown): string | null {
  switch (definition.type) {
    case 'text':
      return typeof value === 'string' && value.length <= 4000 ? null : 'must be text of at most 4000 characters';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'must be a number';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'date':
      return typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ? null : 'must be a YYYY-MM-DD date';
    case 'select':
      return typeof value === 'string' && (definition.options ?? []).includes(value) ? null : `must be one of ${(definition.options ?? []).join(', ')}`;
  }
}
