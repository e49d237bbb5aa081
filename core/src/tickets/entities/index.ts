import { TicketRow } from './ticket.entity.js';
import { TicketCommentRow, TicketCounterRow, TicketFieldRow, TicketFollowerRow, TicketHistoryRow, TicketLinkRow, TicketTagRow } from './ticket-parts.entity.js';
import { SlaCalendarRow, SlaPolicyRow, TicketSlaClockRow } from './sla.entity.js';

export const TICKETS_ENTITIES = [
  TicketRow,
  TicketCounterRow,
  TicketLinkRow,
  TicketFollowerRow,
  TicketTagRow,
  TicketCommentRow,
  TicketHistoryRow,
  TicketFieldRow,
  SlaCalendarRow,
  SlaPolicyRow,
  TicketSlaClockRow,
];
