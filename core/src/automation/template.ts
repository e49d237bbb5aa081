/**
 * Canned-response variables: `{{contact.name}}`, `{{ticket.number}}`, … Rendering is one pass
 * over the template with a fixed allow-list of variables: a value that itself contains `{{…}}`
 * is never expanded, nothing is evaluated, unknown variables render as empty text.
 */
export const TEMPLATE_VARIABLES = [
  'contact.name',
  'contact.email',
  'contact.language',
  'ticket.number',
  'ticket.subject',
  'ticket.status',
  'ticket.priority',
  'conversation.id',
  'conversation.channel',
  'agent.name',
  'organization.name',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Partial<Record<TemplateVariable, string | number | null | undefined>>;

const PATTERN = /\{\{\s*([a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z][a-zA-Z0-9_]*)*)\s*\}\}/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export type Escape = 'text' | 'html' | 'json';

export function renderTemplate(template: string, values: TemplateValues, escape: Escape = 'text'): string {
  return template.replace(PATTERN, (_match, name: string) => {
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) return '';
    const raw = values[name as TemplateVariable];
    if (raw === null || raw === undefined) return '';
    const text = String(raw).replace(CONTROL, '').slice(0, 1000);
    if (escape === 'html') return text.replace(/[&<>"']/g, (c) => HTML[c]);
    if (escape === 'json') return JSON.stringify(text).slice(1, -1);
    return text;
  });
}

/** Variables used by a template that are not on the allow-list (for validation on save). */
export function unknownVariables(template: string): string[] {
  const unknown = new Set<string>();
  for (const match of template.matchAll(PATTERN)) if (!(TEMPLATE_VARIABLES as readonly string[]).includes(match[1])) unknown.add(match[1]);
  return [...unknown];
}
