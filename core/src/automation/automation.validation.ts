import { ACTION_TYPES, OPERATORS, TRIGGERS, type Action, type Conditions } from './automation.types.js';
import { TICKET_PRIORITIES, TICKET_STATUSES } from '../tickets/tickets.types.js';
import { unknownVariables } from './template.js';
import { AutomationError } from './automation.error.js';

const FIELD = /^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z0-9_]+){0,5}$/;
const ACTION_KEYS: Record<Action['type'], string[]> = {
  set_priority: ['value'],
  set_team: ['teamId'],
  set_tags: ['add', 'remove'],
  set_status: ['status'],
  assign: ['assigneeId'],
  add_note: ['body'],
  send_canned_reply: ['cannedResponseId'],
  call_webhook: ['url', 'headers', 'body'],
};
const STATUSES = [...TICKET_STATUSES, 'resolved', 'snoozed'];
const FORBIDDEN_HEADERS = ['host', 'content-length', 'connection', 'transfer-encoding', 'cookie'];

const isStrings = (value: unknown, max: number) =>
  Array.isArray(value) && value.length <= max && value.every((v) => typeof v === 'string' && v.length >= 1 && v.length <= 64);

/** Checks rule/macro definitions; every problem is reported with its path. */
export function validateDefinition(input: { trigger?: unknown; conditions?: unknown; actions: unknown }): { conditions: Conditions; actions: Action[] } {
  const problems: string[] = [];
  if (input.trigger !== undefined && !(TRIGGERS as readonly unknown[]).includes(input.trigger)) problems.push(`trigger must be one of ${TRIGGERS.join(', ')}`);
  const conditions = (input.conditions ?? {}) as Record<string, unknown>;
  if (typeof conditions !== 'object' || Array.isArray(conditions)) problems.push('conditions must be an object with all/any lists');
  else {
    for (const key of Object.keys(conditions)) if (key !== 'all' && key !== 'any') problems.push(`conditions.${key} is not allowed`);
    for (const group of ['all', 'any'] as const) {
      const list = conditions[group];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length > 50) {
        problems.push(`conditions.${group} must be a list (at most 50)`);
        continue;
      }
      list.forEach((condition: Record<string, unknown>, i) => {
        const at = `conditions.${group}[${i}]`;
        if (!condition || typeof condition !== 'object') return problems.push(`${at} must be an object`);
        for (const key of Object.keys(condition)) if (!['field', 'op', 'value'].includes(key)) problems.push(`${at}.${key} is not allowed`);
        if (typeof condition.field !== 'string' || !FIELD.test(condition.field)) problems.push(`${at}.field must be a dotted path such as ticket.priority`);
        if (!(OPERATORS as readonly unknown[]).includes(condition.op)) problems.push(`${at}.op must be one of ${OPERATORS.join(', ')}`);
        if ((condition.op === 'in' || condition.op === 'not_in') && !Array.isArray(condition.value))
          problems.push(`${at}.value must be a list for ${String(condition.op)}`);
        return undefined;
      });
    }
  }
  const actions = input.actions;
  if (!Array.isArray(actions) || actions.length === 0 || actions.length > 20) problems.push('actions must be a list of 1–20 actions');
  else {
    actions.forEach((action: Record<string, unknown>, i) => {
      const at = `actions[${i}]`;
      if (!action || typeof action !== 'object' || !(ACTION_TYPES as readonly unknown[]).includes(action.type)) {
        return problems.push(`${at}.type must be one of ${ACTION_TYPES.join(', ')}`);
      }
      const type = action.type as Action['type'];
      for (const key of Object.keys(action)) if (key !== 'type' && !ACTION_KEYS[type].includes(key)) problems.push(`${at}.${key} is not allowed for ${type}`);
      const text = (v: unknown, max: number) => typeof v === 'string' && v.length >= 1 && v.length <= max;
      if (type === 'set_priority' && !(TICKET_PRIORITIES as readonly unknown[]).includes(action.value)) problems.push(`${at}.value must be a priority`);
      if (type === 'set_team' && action.teamId !== null && !text(action.teamId, 36)) problems.push(`${at}.teamId must be a team id or null`);
      if (
        type === 'set_tags' &&
        !(
          (action.add === undefined || isStrings(action.add, 50)) &&
          (action.remove === undefined || isStrings(action.remove, 50)) &&
          (action.add || action.remove)
        )
      )
        problems.push(`${at} needs add and/or remove lists of tags`);
      if (type === 'set_status' && !STATUSES.includes(action.status as string)) problems.push(`${at}.status must be one of ${STATUSES.join(', ')}`);
      if (type === 'assign' && action.assigneeId !== null && !text(action.assigneeId, 191)) problems.push(`${at}.assigneeId must be a user id or null`);
      if (type === 'add_note') {
        if (!text(action.body, 65536)) problems.push(`${at}.body must be 1–65536 characters`);
        else if (unknownVariables(action.body as string).length)
          problems.push(`${at}.body uses unknown variables: ${unknownVariables(action.body as string).join(', ')}`);
      }
      if (type === 'send_canned_reply' && !text(action.cannedResponseId, 36)) problems.push(`${at}.cannedResponseId is required`);
      if (type === 'call_webhook') {
        if (!text(action.url, 2000)) problems.push(`${at}.url is required`);
        else {
          try {
            const url = new URL(action.url as string);
            if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`${at}.url must be http(s)`);
          } catch {
            problems.push(`${at}.url is not a URL`);
          }
        }
        if (action.body !== undefined && !text(action.body, 65536)) problems.push(`${at}.body must be a template string`);
        if (action.headers !== undefined) {
          const headers = action.headers as Record<string, unknown>;
          if (!headers || typeof headers !== 'object' || Array.isArray(headers) || Object.keys(headers).length > 20)
            problems.push(`${at}.headers must be an object`);
          else
            for (const [name, value] of Object.entries(headers)) {
              if (
                !/^[A-Za-z0-9-]{1,64}$/.test(name) ||
                FORBIDDEN_HEADERS.includes(name.toLowerCase()) ||
                typeof value !== 'string' ||
                value.length > 1000 ||
                /[\r\n]/.test(value)
              )
                problems.push(`${at}.headers.${name} is not allowed`);
            }
        }
      }
      return undefined;
    });
  }
  if (problems.length) throw new AutomationError('automation_invalid', `Invalid automation: ${problems.join('; ')}`, { problems });
  return { conditions: conditions as Conditions, actions: actions as Action[] };
}
