import type { TicketPriority, TicketStatus } from '../tickets/tickets.types.js';

export const TRIGGERS = [
  'ticket.created',
  'ticket.updated',
  'ticket.status_changed',
  'ticket.comment_added',
  'ticket.sla_warning',
  'ticket.sla_breached',
  'conversation.created',
  'conversation.message_created',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const OPERATORS = ['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists'] as const;
export type Operator = (typeof OPERATORS)[number];

/** `field` is a dotted path into the evaluation context, e.g. `ticket.priority`, `message.intent`. */
export interface Condition {
  field: string;
  op: Operator;
  value?: unknown;
}

export interface Conditions {
  /** Every one must hold. */
  all?: Condition[];
  /** At least one must hold (ignored when empty). */
  any?: Condition[];
}

export type Action =
  | { type: 'set_priority'; value: TicketPriority }
  | { type: 'set_team'; teamId: string | null }
  | { type: 'set_tags'; add?: string[]; remove?: string[] }
  | { type: 'set_status'; status: TicketStatus | 'open' | 'pending' | 'resolved' }
  | { type: 'assign'; assigneeId: string | null }
  | { type: 'add_note'; body: string }
  | { type: 'send_canned_reply'; cannedResponseId: string }
  | { type: 'call_webhook'; url: string; headers?: Record<string, string>; body?: string };

export const ACTION_TYPES = ['set_priority', 'set_team', 'set_tags', 'set_status', 'assign', 'add_note', 'send_canned_reply', 'call_webhook'] as const;

/** Loop protection limits. */
export const MAX_DEPTH = 3;
export const MAX_RUNS_PER_OBJECT_PER_MINUTE = 20;
