import { AppError } from '../platform/errors/app-error.js';

export type TicketsErrorCode =
  | 'ticket_not_found'
  | 'ticket_invalid_transition'
  | 'ticket_custom_field_invalid'
  | 'ticket_field_exists'
  | 'ticket_field_not_found'
  | 'ticket_link_not_found'
  | 'ticket_version_conflict'
  | 'ticket_team_forbidden'
  | 'sla_calendar_not_found'
  | 'sla_calendar_invalid'
  | 'sla_calendar_in_use'
  | 'sla_policy_not_found'
  | 'sla_policy_invalid'
  | 'ticket_scope_missing'
  | 'unauthenticated';

const STATUS: Record<TicketsErrorCode, number> = {
  ticket_not_found: 404,
  ticket_invalid_transition: 409,
  ticket_custom_field_invalid: 400,
  ticket_field_exists: 409,
  ticket_field_not_found: 404,
  ticket_link_not_found: 404,
  ticket_version_conflict: 409,
  ticket_team_forbidden: 403,
  sla_calendar_not_found: 404,
  sla_calendar_invalid: 400,
  sla_calendar_in_use: 409,
  sla_policy_not_found: 404,
  sla_policy_invalid: 400,
  ticket_scope_missing: 403,
  unauthenticated: 401,
};

export class TicketsError extends AppError {
  constructor(code: TicketsErrorCode, message: string, details?: unknown) {
    super(code, message, STATUS[code], details);
  }
}

export const ticketNotFound = () => new TicketsError('ticket_not_found', 'There is no such ticket.');
