import { randomUUID } from 'node:crypto';
import { ConversationRow, MessageRow } from './entities/conversation.entity.js';
import type { MessageAnnotations, MessageView } from './conversations.types.js';
import { CONVERSATION_MESSAGE_ANNOTATED, CONVERSATION_MESSAGE_CREATED, type MessageAnnotatedEvent, type MessageCreatedEvent } from './conversations.events.js';
import type { EventToEmit } from '../platform/outbox/outbox.writer.js';
import type { InboundAnnotation } from './inbound-annotator.js';

/** A message as a writer hands it in, before it has an id, a seq and annotations. */
export type NewMessage = Pick<
  MessageView,
  'direction' | 'authorType' | 'authorId' | 'text' | 'content' | 'attachments' | 'private' | 'idempotencyKey' | 'externalMessageId'
> & {
  /** For a customer's message, a hash of (inbox, the channel's idempotency key): unique per inbox. Else null. */
  inboundKey: string | null;
  /** A customer's message annotated before it is stored (see InboundAnnotator): written with the row. */
  annotation?: InboundAnnotation | null;
};

/** The row of a message that takes `seq` in its conversation. */
export function messageRowFor(conversationId: string, seq: number, message: NewMessage, now: Date): MessageRow {
  const { annotation, ...columns } = message;
  return Object.assign(new MessageRow(), {
    id: randomUUID(),
    conversationId,
    seq,
    ...columns,
    language: null,
    intent: null,
    intentConfidence: null,
    emotion: null,
    flags: null,
    ...annotationColumns(annotation?.fields ?? {}),
    createdAt: now,
  });
}

/** The message columns for the given annotations, cut to their column widths (absent ones are left out). */
export function annotationColumns(annotations: Partial<MessageAnnotations>): Partial<MessageRow> {
  const set: Partial<MessageRow> = {};
  if (annotations.language !== undefined) set.language = annotations.language?.slice(0, 16) ?? null;
  if (annotations.intent !== undefined) set.intent = annotations.intent?.slice(0, 128) ?? null;
  if (annotations.intentConfidence !== undefined) set.intentConfidence = annotations.intentConfidence;
  if (annotations.emotion !== undefined) set.emotion = annotations.emotion?.slice(0, 32) ?? null;
  if (annotations.flags !== undefined) set.flags = annotations.flags;
  return set;
}

/**
 * The events of a stored message: `message_created`, and for a message annotated before it was stored
 * `message_annotated` and the annotator's own events, all committed with the row.
 */
export function messageEvents(conversation: ConversationRow, stored: MessageRow, message: NewMessage): EventToEmit<unknown>[] {
  const created = messageCreatedEvent(conversation, stored, Boolean(message.annotation));
  if (!message.annotation) return [created];
  const annotated: EventToEmit<MessageAnnotatedEvent> = {
    subject: CONVERSATION_MESSAGE_ANNOTATED,
    data: {
      conversationId: conversation.id,
      messageId: stored.id,
      seq: stored.seq,
      language: stored.language,
      intent: stored.intent,
      intentConfidence: stored.intentConfidence,
      emotion: stored.emotion,
      flags: stored.flags,
    },
  };
  return [created, annotated, ...message.annotation.forMessage({ conversationId: conversation.id, messageId: stored.id, seq: stored.seq })];
}

/** `message_created` for a stored message, carrying the conversation fields its consumers route on. */
function messageCreatedEvent(conversation: ConversationRow, stored: MessageRow, annotated = false): EventToEmit<MessageCreatedEvent> {
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
      threadKey: conversation.threadKey,
      ...(annotated ? { annotated: true } : {}),
    },
  };
}
