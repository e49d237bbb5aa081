import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { markProcessed } from '../platform/outbox/idempotent-consumers.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { CONVERSATION_MESSAGE_CREATED, type MessageCreatedEvent } from '../conversations/conversations.events.js';
import type { AnnotatedMessageRef, InboundAnnotation } from '../conversations/inbound-annotator.js';
import type { MessageAnnotations } from '../conversations/conversations.types.js';
import type { EventToEmit } from '../platform/outbox/outbox.writer.js';
import type { Annotation } from './annotator.js';
import { NlpService } from './nlp.service.js';
import { NLP_MESSAGE_ANNOTATED, type NlpMessageAnnotatedEvent } from './nlp.events.js';

export const ANNOTATOR_CONSUMER = 'nlp-annotate-inbound';

/** The part of ConversationsService this consumer uses (tests pass a fake). */
export type ConversationsPort = Pick<ConversationsService, 'getMessage' | 'annotateMessage' | 'useInboundAnnotator'>;

/**
 * Annotates every inbound message. Normally before it is stored: ConversationsService calls `annotateInbound`
 * while ingesting, and the annotations, `message_annotated` and `sb.evt.nlp.message_annotated` commit with the
 * message (its `message_created` says `annotated`). A message that could not be annotated then (models still
 * loading, a failure) is annotated after the commit by the consumer of `message_created`: it reads the text
 * through ConversationsService, then in one transaction records the processed marker, stores the annotations
 * with `annotateMessage` (which emits `message_annotated`) and emits `sb.evt.nlp.message_annotated`. A
 * redelivery finds the marker and changes nothing.
 */
@Injectable()
export class AnnotationConsumer implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('nlp-annotate');
  private handle?: Closable;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly nlp: NlpService,
    @Inject(ConversationsService) private readonly conversations: ConversationsPort,
  ) {}

  onModuleInit(): void {
    this.conversations.useInboundAnnotator((text, { inboxId }) => this.annotateInbound(text, inboxId));
  }

  /** The inline path (see the class comment); `null` while the models load, so that ingestion never waits for them. */
  async annotateInbound(text: string, inboxId: string): Promise<InboundAnnotation | null> {
    if (!this.nlp.ready) return null;
    const scope = { scope: inboxId };
    const annotation = await this.nlp.annotate(text, scope);
    return {
      fields: messageAnnotations(annotation),
      forMessage: (message) => {
        this.nlp.rememberAnnotation(message.messageId, text, scope, annotation);
        return [annotatedEvent(message, annotation)];
      },
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consume<EventEnvelope<MessageCreatedEvent>>({
      name: ANNOTATOR_CONSUMER,
      subject: CONVERSATION_MESSAGE_CREATED,
      delivery: 'one-instance',
      concurrency: 4,
      handler: async (message) => this.handle_(message.data, message.msgId),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.close();
  }

  async handle_(event: EventEnvelope<MessageCreatedEvent>, msgId: string): Promise<void> {
    const data = event?.data;
    if (!data || data.direction !== 'in' || data.annotated) return;
    const eventId = event.id ?? msgId;
    const message = await this.conversations.getMessage(data.messageId, { recent: true });
    const annotation = await this.nlp.annotateMessage(data.messageId, message.text ?? '', { scope: data.inboxId });
    // The annotations, the processed marker and both events commit together, and concurrent messages of
    // one conversation share transactions (coalesced): one commit instead of two per message.
    await this.uow.run(
      async (tx) => {
        if (!(await markProcessed(tx, ANNOTATOR_CONSUMER, eventId, this.clock.now()))) return;
        await this.conversations.annotateMessage(data.messageId, messageAnnotations(annotation), tx, message);
        await tx.emit(annotatedEvent(data, annotation));
      },
      { coalesce: data.conversationId },
    );
    this.logger.debug({ messageId: data.messageId, intent: annotation.intent, language: annotation.language }, 'message annotated');
  }
}

/** What is stored on the message row. */
function messageAnnotations(annotation: Readonly<Annotation>): MessageAnnotations {
  const flags = [...(annotation.anger ? ['anger'] : []), ...(annotation.anxiety ? ['anxiety'] : []), ...(annotation.outOfScope ? ['out_of_scope'] : [])];
  return {
    language: annotation.language,
    intent: annotation.intent,
    intentConfidence: annotation.intentConfidence,
    emotion: annotation.sentiment,
    flags,
  };
}

/** `sb.evt.nlp.message_annotated`: the full annotation, with entity types and values but not the matched text. */
function annotatedEvent(message: AnnotatedMessageRef, annotation: Readonly<Annotation>): EventToEmit<NlpMessageAnnotatedEvent> {
  return {
    subject: NLP_MESSAGE_ANNOTATED,
    id: `nlp-annotated:${message.messageId}`,
    data: {
      conversationId: message.conversationId,
      messageId: message.messageId,
      seq: message.seq,
      language: annotation.language,
      languageConfidence: annotation.languageConfidence,
      intent: annotation.intent,
      intentConfidence: annotation.intentConfidence,
      intentCandidate: annotation.intentCandidate,
      outOfScope: annotation.outOfScope,
      sentiment: annotation.sentiment,
      emotionConfidence: annotation.emotionConfidence,
      anger: annotation.anger,
      anxiety: annotation.anxiety,
      entities: annotation.entities.map((e) => ({ type: e.type, value: e.value, start: e.start, end: e.end })),
      models: annotation.models,
    },
  };
}
