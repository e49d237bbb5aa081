import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { CONVERSATION_MESSAGE_CREATED, type MessageCreatedEvent } from '../conversations/conversations.events.js';
import { KnowledgeService } from './knowledge.service.js';

/**
 * Learning loop: when an agent replies (public message) in a conversation where the bot
 * recorded an unanswered question, the question and the agent's answer become a proposal for
 * an operator to approve. A plain batch consumer (the service runs its own transactions); the
 * proposal is idempotent per agent message, so a redelivered batch proposes nothing twice.
 */
@Injectable()
export class KnowledgeLearningConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('knowledge-learning');
  private handle?: Closable;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly conversations: ConversationsService,
    private readonly knowledge: KnowledgeService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consumeBatch<EventEnvelope<MessageCreatedEvent>>({
      name: 'knowledge-learning',
      subject: CONVERSATION_MESSAGE_CREATED,
      maxBatch: 200,
      handleBatch: async (messages) => {
        const answers = messages
          .map((message) => message.data?.data)
          .filter((data): data is MessageCreatedEvent => Boolean(data && data.direction === 'out' && data.authorType === 'agent' && !data.private));
        if (!answers.length) return;
        // Most agent replies answer nothing the bot recorded: one read for the batch tells which conversations to look at.
        const awaiting = await this.knowledge.conversationsWithUnansweredQuestions([...new Set(answers.map((data) => data.conversationId))]);
        for (const data of answers) {
          if (!awaiting.has(data.conversationId)) continue;
          const proposal = await this.knowledge.proposeFromAgentAnswer({
            conversationId: data.conversationId,
            messageId: data.messageId,
            answer: async () => (await this.conversations.getMessage(data.messageId)).text ?? '',
          });
          if (proposal) this.logger.log({ proposalId: proposal.id, kind: proposal.kind }, 'agent answer proposed for the knowledge base');
        }
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.close();
  }
}
