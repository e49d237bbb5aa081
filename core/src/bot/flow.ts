/**
 * Flows as data: parsing (JSON or YAML), validation, templates (`{{slots.x}}`, `{{results.r.y}}`)
 * and branch conditions. No code is evaluated: templates are path look-ups, conditions are a
 * closed set of comparisons.
 */
import { parse as parseYaml } from 'yaml';
import { CONNECTOR_ACTIONS, type Branch, type Condition, type FlowDefinition, type FlowStep, type LocalText } from './bot.types.js';

const NAME = /^[a-z0-9][a-z0-9_.-]{0,99}$/i;
const ID = /^[A-Za-z0-9_.-]{1,64}$/;
const PLUGIN_INSTANCE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const STEP_TYPES = new Set(['ask', 'call', 'branch', 'reply', 'handover', 'set']);

export function parseFlowSource(source: string, format: 'json' | 'yaml'): unknown {
  return format === 'json' ? JSON.parse(source) : parseYaml(source, { maxAliasCount: 50 });
}

const isText = (v: unknown): v is LocalText =>
  (typeof v === 'string' && v.length <= 4000) ||
  (Boolean(v) && typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((t) => typeof t === 'string' && t.length <= 4000));

/** Returns the problems in a flow definition (empty when it is valid). */
export function validateFlow(raw: unknown): string[] {
  const errors: string[] = [];
  const flow = raw as FlowDefinition;
  if (!flow || typeof flow !== 'object' || Array.isArray(flow)) return ['the flow must be an object'];
  if (typeof flow.name !== 'string' || !NAME.test(flow.name)) errors.push('name must be 1–100 letters, digits, "_", "." or "-"');
  if (!Array.isArray(flow.steps) || flow.steps.length === 0 || flow.steps.length > 200) {
    errors.push('steps must be a list of 1–200 steps');
    return errors;
  }
  const ids = new Set<string>();
  for (const [i, step] of flow.steps.entries()) {
    if (!step || typeof step !== 'object') {
      errors.push(`steps[${i}] must be an object`);
      continue;
    }
    if (typeof step.id !== 'string' || !ID.test(step.id)) errors.push(`steps[${i}].id must be 1–64 letters, digits, "_", "." or "-"`);
    else if (ids.has(step.id)) errors.push(`steps[${i}].id "${step.id}" is used twice`);
    else ids.add(step.id);
    if (!STEP_TYPES.has((step as FlowStep).type)) errors.push(`steps[${i}].type must be one of ${[...STEP_TYPES].join(', ')}`);
  }
  const target = (value: unknown, where: string, extra: string[] = []) => {
    if (value === undefined) return;
    if (typeof value !== 'string' || (!ids.has(value) && !extra.includes(value)))
      errors.push(`${where} must name a step${extra.length ? ` or ${extra.join('/')}` : ''}`);
  };
  const branches = (list: unknown, where: string) => {
    if (!Array.isArray(list) || list.length === 0 || list.length > 50) {
      errors.push(`${where} must be a list of 1–50 { when?, goto }`);
      return;
    }
    list.forEach((b: Branch, k) => {
      target(b?.goto, `${where}[${k}].goto`);
      if (b?.when !== undefined) validateCondition(b.when, `${where}[${k}].when`, errors);
    });
  };
  for (const [i, s] of flow.steps.entries()) {
    const step = s as FlowStep;
    const where = `steps[${i}] (${step.id})`;
    switch (step.type) {
      case 'ask':
        if (typeof step.slot !== 'string' || !ID.test(step.slot)) errors.push(`${where}.slot must be a name`);
        if (!step.entity && !step.pattern) errors.push(`${where} needs an entity type or a pattern to validate the answer`);
        if (step.pattern !== undefined) {
          try {
            new RegExp(step.pattern, 'u');
          } catch {
            errors.push(`${where}.pattern is not a valid regular expression`);
          }
        }
        if (!isText(step.prompt)) errors.push(`${where}.prompt must be text or { en, zh, … }`);
        if (step.invalid !== undefined && !isText(step.invalid)) errors.push(`${where}.invalid must be text`);
        if (step.maxAttempts !== undefined && (!Number.isInteger(step.maxAttempts) || step.maxAttempts < 1 || step.maxAttempts > 10))
          errors.push(`${where}.maxAttempts must be 1–10`);
        target(step.onFail, `${where}.onFail`, ['handover']);
        target(step.next, `${where}.next`);
        break;
      case 'call':
        if (!step.http === !step.plugin) errors.push(`${where} needs exactly one of http or plugin`);
        if (step.http) {
          if (typeof step.http.url !== 'string' || !/^https?:\/\//.test(step.http.url)) errors.push(`${where}.http.url must be an http(s) URL template`);
          if (step.http.method && !['GET', 'POST', 'PUT'].includes(step.http.method)) errors.push(`${where}.http.method must be GET, POST or PUT`);
        }
        if (step.plugin) {
          if (typeof step.plugin.instance !== 'string' || !PLUGIN_INSTANCE.test(step.plugin.instance))
            errors.push(`${where}.plugin.instance must be a plugin instance id`);
          if (!(CONNECTOR_ACTIONS as readonly string[]).includes(step.plugin.action))
            errors.push(`${where}.plugin.action must be one of ${CONNECTOR_ACTIONS.join(', ')}`);
          if (
            step.plugin.timeoutMs !== undefined &&
            (!Number.isInteger(step.plugin.timeoutMs) || step.plugin.timeoutMs < 100 || step.plugin.timeoutMs > 30_000)
          )
            errors.push(`${where}.plugin.timeoutMs must be 100–30000`);
        }
        if (typeof step.result !== 'string' || !ID.test(step.result)) errors.push(`${where}.result must be a name`);
        if (Array.isArray(step.next)) branches(step.next, `${where}.next`);
        else target(step.next, `${where}.next`);
        target(step.onError, `${where}.onError`, ['handover']);
        break;
      case 'branch':
        branches(step.branches, `${where}.branches`);
        target(step.default, `${where}.default`);
        break;
      case 'reply':
        if (!isText(step.text)) errors.push(`${where}.text must be text or { en, zh, … }`);
        target(step.next, `${where}.next`);
        break;
      case 'handover':
        if (step.text !== undefined && !isText(step.text)) errors.push(`${where}.text must be text`);
        break;
      case 'set':
        if (!step.slots || typeof step.slots !== 'object') errors.push(`${where}.slots must be an object of templates`);
        target(step.next, `${where}.next`);
        break;
    }
  }
  target(flow.start, 'start');
  if (flow.trigger !== undefined) {
    const t = flow.trigger;
    if (typeof t !== 'object' || !t) errors.push('trigger must be an object');
    else {
      if (t.intents !== undefined && (!Array.isArray(t.intents) || !t.intents.every((x) => typeof x === 'string')))
        errors.push('trigger.intents must be a list of intent names');
      if (t.phrases !== undefined && (!Array.isArray(t.phrases) || !t.phrases.every((x) => typeof x === 'string' && x.trim())))
        errors.push('trigger.phrases must be a list of phrases');
    }
  }
  if (flow.timeoutSeconds !== undefined && (!Number.isInteger(flow.timeoutSeconds) || flow.timeoutSeconds < 5 || flow.timeoutSeconds > 86_400))
    errors.push('timeoutSeconds must be 5–86400');
  return errors;
}

function validateCondition(condition: Condition, where: string, errors: string[], depth = 0): void {
  if (depth > 8) {
    errors.push(`${where} is nested too deeply`);
    return;
  }
  if (!condition || typeof condition !== 'object') {
    errors.push(`${where} must be an object`);
    return;
  }
  if ('all' in condition || 'any' in condition) {
    const list = 'all' in condition ? condition.all : condition.any;
    if (!Array.isArray(list)) errors.push(`${where} all/any must be a list`);
    else list.forEach((c, k) => validateCondition(c, `${where}[${k}]`, errors, depth + 1));
    return;
  }
  if ('not' in condition) return validateCondition(condition.not, `${where}.not`, errors, depth + 1);
  if (typeof condition.path !== 'string') errors.push(`${where}.path must be a path such as results.order.status`);
  if (condition.matches !== undefined) {
    try {
      new RegExp(condition.matches, 'u');
    } catch {
      errors.push(`${where}.matches is not a valid regular expression`);
    }
  }
}

export function getPath(context: unknown, path: string): unknown {
  let value: unknown = context;
  for (const part of path.split('.')) {
    if (value === null || value === undefined || typeof value !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function evaluate(condition: Condition | undefined, context: unknown): boolean {
  if (!condition) return true;
  if ('all' in condition) return condition.all.every((c) => evaluate(c, context));
  if ('any' in condition) return condition.any.some((c) => evaluate(c, context));
  if ('not' in condition) return !evaluate(condition.not, context);
  const value = getPath(context, condition.path);
  if (condition.exists !== undefined && (value !== undefined && value !== null) !== condition.exists) return false;
  if ('equals' in condition && condition.equals !== undefined && !looseEquals(value, condition.equals)) return false;
  if ('notEquals' in condition && condition.notEquals !== undefined && looseEquals(value, condition.notEquals)) return false;
  if (condition.in && !condition.in.some((v) => looseEquals(value, v))) return false;
  if (condition.matches !== undefined && !new RegExp(condition.matches, 'u').test(String(value ?? ''))) return false;
  if (condition.gte !== undefined && !(Number(value) >= condition.gte)) return false;
  if (condition.lte !== undefined && !(Number(value) <= condition.lte)) return false;
  return true;
}

const looseEquals = (a: unknown, b: unknown): boolean => a === b || (a !== null && b !== null && a !== undefined && String(a) === String(b));

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;

/** Fills `{{path}}` from the context; `encode` URL-encodes each value (for URLs). Unknown paths render empty. */
export function renderTemplate(template: string, context: unknown, encode = false): string {
  return template.replace(PLACEHOLDER, (_m, path: string) => {
    const value = getPath(context, path);
    if (value === undefined || value === null) return '';
    const text = (typeof value === 'object' ? JSON.stringify(value) : String(value)).replace(CONTROL, '').slice(0, 1000);
    return encode ? encodeURIComponent(text) : text;
  });
}

/** Renders string leaves of a JSON body template. */
export function renderDeep(value: unknown, context: unknown, depth = 0): unknown {
  if (depth > 10) return null;
  if (typeof value === 'string') return renderTemplate(value, context);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, context, depth + 1));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, context, depth + 1)]));
  return value;
}

/** Picks the text for a language: exact, then base language, then English, then the first. */
export function localise(text: LocalText | null | undefined, language: string | null): string {
  if (text === null || text === undefined) return '';
  if (typeof text === 'string') return text;
  const lang = (language ?? 'en').toLowerCase();
  return text[lang] ?? text[lang.split('-')[0]] ?? text.en ?? Object.values(text)[0] ?? '';
}
