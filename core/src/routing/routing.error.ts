import { AppError } from '../platform/errors/app-error.js';

export type RoutingErrorCode =
  | 'routing_agent_not_found'
  | 'routing_conversation_not_found'
  | 'routing_agent_unavailable'
  | 'routing_target_required'
  | 'routing_forbidden'
  | 'routing_conflict';

const STATUS: Record<RoutingErrorCode, number> = {
  routing_agent_not_found: 404,
  routing_conversation_not_found: 404,
  routing_agent_unavailable: 409,
  routing_target_required: 400,
  routing_forbidden: 403,
  routing_conflict: 409,
};

export class RoutingError extends AppError {
  constructor(code: RoutingErrorCode, message: string, details?: unknown) {
    super(code, message, STATUS[code], details);
  }
}
