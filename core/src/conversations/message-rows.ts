import { randomUUID } from 'node:crypto';
import { ConversationRow, MessageRow } from './entities/conversation.entity.js';
import type { MessageView } from './conversations.types.js';
import { CONVERSATION_MESSAGE_CREATED, type MessageCreatedEvent } from './conversations.events.js';
import type { EventToEmit } from '../platform/outbox/outbox.writer.js';

/** A message as a writer hands it in, before it has an id, a seq and annotations. */
export type NewMessage = Pick<
  MessageView,
  'direction' | 'authorType' | 'authorId' | 'text' | 'content' | 'attachments' | 'private' | 'idempotencyKey' | 'externalMessageId'
> & {
  /** For a customer's message, a hash of (inbox, the channel's idempotency key): unique per inbox. Else null. */
  inboundKey: string | null;
};

/** The row of a message that takes `seq` in its conversation. */
export function messageRowFor(conversationId: string, seq: number, message: NewMessage, now: Date): MessageRow {
  return Object.assign(new MessageRow(), {
    id: randomUUID(),
    conversationId,
    seq,
    ...message,
    language: null,
    intent: null,
    intentConfidence: null,
    emotion: null,
    flags: null,
    createdAt: now,
  });
}

/** `message_created` for a stored message, carrying the conversation fields its consumers route on. */
export function messageCreatedEvent(conversation: ConversationRow, stored: MessageRow): EventToEmit<MessageCreatedEvent> {
  return {
    subject: CONVERSATION_MESSAGE_CREATED,
    id: `message:${stored.id}`,
    data: {
      conversationId: conversation.id,
      messageId: stored.id,
      seq: stored.seq,
      direction: stored.direction,
      authorType: stored.authorType,
      authorId: stored.authorId,
      private: stored.private,
      channel: conversation.channel,
      inboxId: conversation.inboxId,
      contactId: conversation.contactId,
      teamId: conversation.teamId,
      assigneeId: conversation.assigneeId,
    },
  };
}
