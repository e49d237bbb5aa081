/**
 * Events analytics reads. Payload shapes follow docs/module-contracts.md; fields are optional
 * here because analytics must tolerate older or partial producers.
 */
export interface ConversationEventData {
  conversationId: string;
  contactId?: string | null;
  inboxId?: string | null;
  channel?: string | null;
  teamId?: string | null;
  agentId?: string | null;
  messageId?: string;
  direction?: 'in' | 'out';
  authorType?: 'contact' | 'agent' | 'bot' | 'system';
  authorId?: string | null;
  private?: boolean;
  changes?: Record<string, unknown>;
}

export interface TicketEventData {
  ticketId: string;
  teamId?: string | null;
  assigneeId?: string | null;
  to?: string;
  from?: string;
  metric?: string;
}

/** `sb.evt.csat.requested|responded` (core/src/csat/csat.events.ts). */
export interface CsatEventData {
  subjectType?: 'ticket' | 'conversation';
  subjectId?: string;
  conversationId?: string | null;
  rating?: number;
}

export interface BotEventData {
  conversationId: string;
}

/** Subjects analytics consumes. The bot module emits `sb.evt.bot.handed_over` when it transfers to a human. */
export const ANALYTICS_SUBJECTS = ['sb.evt.conversation.>', 'sb.evt.ticket.>', 'sb.evt.csat.>', 'sb.evt.bot.>'] as const;
