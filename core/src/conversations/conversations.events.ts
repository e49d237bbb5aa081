import type { AuthorType, ConversationStatus, Direction, Priority } from './entities/conversation.entity.js';

export const CONVERSATION_CREATED = 'sb.evt.conversation.created';
export const CONVERSATION_MESSAGE_CREATED = 'sb.evt.conversation.message_created';
export const CONVERSATION_UPDATED = 'sb.evt.conversation.updated';
export const CONVERSATION_ASSIGNED = 'sb.evt.conversation.assigned';
export const CONVERSATION_RESOLVED = 'sb.evt.conversation.resolved';
export const CONVERSATION_REOPENED = 'sb.evt.conversation.reopened';

export interface ConversationCreatedEvent {
  conversationId: string;
  contactId: string;
  inboxId: string;
  channel: string;
  teamId: string | null;
  priority: Priority;
}

export interface MessageCreatedEvent {
  conversationId: string;
  messageId: string;
  seq: number;
  direction: Direction;
  authorType: AuthorType;
  authorId: string | null;
  private: boolean;
  channel: string;
  inboxId: string;
  contactId: string;
  teamId: string | null;
  /** The conversation's assignee when the message was written (additive; absent in older events). */
  assigneeId?: string | null;
  /** The conversation's thread key (fixed when it was opened; additive, absent in older events). */
  threadKey?: string | null;
  /**
   * The message was annotated before it was stored: its annotations are on the row, and `message_annotated`
   * and `sb.evt.nlp.message_annotated` were emitted with it (additive; absent means annotated later, if at all).
   */
  annotated?: boolean;
}

export interface ConversationChanges {
  status?: ConversationStatus;
  snoozedUntil?: string | null;
  priority?: Priority;
  tags?: string[];
  teamId?: string | null;
  /** After a contact merge re-pointed the conversation. */
  contactId?: string;
}

export interface ConversationUpdatedEvent {
  conversationId: string;
  /** The conversation's last message seq when the change committed. */
  seq?: number;
  changes: ConversationChanges;
}

export interface ConversationAssignedEvent {
  conversationId: string;
  agentId: string | null;
  teamId: string | null;
  previousAgentId: string | null;
}

export interface ConversationResolvedEvent {
  conversationId: string;
  contactId: string;
  /** Actor id, or `system`. */
  resolvedBy: string;
  resolvedAt: string;
}

export interface ConversationReopenedEvent {
  conversationId: string;
}

/** Additive to the contract: NLP results landed on a message (for automation conditions, assist). */
export const CONVERSATION_MESSAGE_ANNOTATED = 'sb.evt.conversation.message_annotated';

export interface MessageAnnotatedEvent {
  conversationId: string;
  messageId: string;
  seq: number;
  language: string | null;
  intent: string | null;
  intentConfidence: number | null;
  emotion: string | null;
  flags: string[] | null;
}
