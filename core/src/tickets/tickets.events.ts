import type { AutomationCause, LinkKind, TicketPriority, TicketStatus, TicketType } from './tickets.types.js';

export const TICKET_CREATED = 'sb.evt.ticket.created';
export const TICKET_UPDATED = 'sb.evt.ticket.updated';
export const TICKET_STATUS_CHANGED = 'sb.evt.ticket.status_changed';
export const TICKET_COMMENT_ADDED = 'sb.evt.ticket.comment_added';
export const TICKET_LINKED = 'sb.evt.ticket.linked';
export const TICKET_SLA_WARNING = 'sb.evt.ticket.sla_warning';
export const TICKET_SLA_BREACHED = 'sb.evt.ticket.sla_breached';

/** Fields every ticket event carries, so consumers rarely need to read the ticket back. */
export interface TicketEventBase {
  ticketId: string;
  number: string;
  teamId: string | null;
  assigneeId: string | null;
  requesterContactId: string | null;
  /** Present when an automation rule caused the change. */
  automation?: AutomationCause;
}

export interface TicketCreatedEvent extends TicketEventBase {
  type: TicketType;
  status: TicketStatus;
  priority: TicketPriority;
  links: Array<{ kind: LinkKind; refId: string }>;
}

export interface TicketUpdatedEvent extends TicketEventBase {
  changes: Record<string, { from: unknown; to: unknown }>;
}

export interface TicketStatusChangedEvent extends TicketEventBase {
  from: TicketStatus;
  to: TicketStatus;
}

export interface TicketCommentAddedEvent extends TicketEventBase {
  commentId: string;
  private: boolean;
  authorType: 'agent' | 'contact' | 'system' | 'automation';
  authorId: string | null;
}

export interface TicketLinkedEvent extends TicketEventBase {
  kind: LinkKind;
  refId: string;
}

export type SlaMetric = 'first_response' | 'next_response' | 'resolution';

export interface TicketSlaEvent extends TicketEventBase {
  metric: SlaMetric;
  policyId: string;
  dueAt: string;
  priority: TicketPriority;
}
