import type { EventToEmit } from '../platform/outbox/outbox.writer.js';
import type { MessageAnnotations } from './conversations.types.js';

/** The stored message an annotation is bound to, once it has an id and a seq. */
export interface AnnotatedMessageRef {
  conversationId: string;
  messageId: string;
  seq: number;
}

/** Annotations computed for a customer's message before it is stored. */
export interface InboundAnnotation {
  readonly fields: MessageAnnotations;
  /**
   * Binds the annotation to the stored message, inside the transaction that inserts it: returns the
   * annotator's own events about the message (committed with it), and lets the annotator recall the
   * result by message id afterwards.
   */
  forMessage(message: AnnotatedMessageRef): EventToEmit<unknown>[];
}

/**
 * Annotates a customer's message before it is written (language, intent, emotion), so that the message
 * row, `message_created` and the annotation events commit in one transaction instead of a second one per
 * message. Registered by the NLP module (`ConversationsService.useInboundAnnotator`); `null` means "not
 * now" (models still loading, or the annotator failed), and the message is then annotated after it is
 * stored, by the consumer of `message_created` (its event carries no `annotated` flag).
 */
export type InboundAnnotator = (text: string, context: { inboxId: string }) => Promise<InboundAnnotation | null>;
