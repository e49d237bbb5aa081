/** Closed vocabularies of the tickets module, shared by entities, DTOs, SLA and automation. */
export const TICKET_TYPES = ['question', 'incident', 'problem', 'task', 'device_fault'] as const;
export type TicketType = (typeof TICKET_TYPES)[number];

export const TICKET_STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

/** The only status changes accepted. Anything else is `409 ticket_invalid_transition`. */
export const TICKET_TRANSITIONS: Record<TicketStatus, readonly TicketStatus[]> = {
  new: ['open', 'pending', 'on_hold', 'solved'],
  open: ['pending', 'on_hold', 'solved'],
  pending: ['open', 'on_hold', 'solved'],
  on_hold: ['open', 'pending', 'solved'],
  solved: ['open', 'closed'],
  closed: [],
};

export function canTransition(from: TicketStatus, to: TicketStatus): boolean {
  return TICKET_TRANSITIONS[from].includes(to);
}

/** Statuses during which SLA clocks are paused. */
export const PAUSED_STATUSES: readonly TicketStatus[] = ['pending', 'on_hold'];

export const LINK_KINDS = ['conversation', 'device', 'ticket', 'external'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

export const CUSTOM_FIELD_TYPES = ['text', 'number', 'boolean', 'date', 'select'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

/** Who caused a change. Automation passes its chain so its own changes do not retrigger it. */
export interface AutomationCause {
  /** Rules that already acted in this chain, in order. */
  ruleIds: string[];
  /** How many automation hops led here (0 = a human or API change). */
  depth: number;
}

export interface MutationOptions {
  automation?: AutomationCause;
}
