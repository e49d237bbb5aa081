import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import {
  CONVERSATION_ASSIGNED,
  CONVERSATION_MESSAGE_CREATED,
  type ConversationAssignedEvent,
  type MessageCreatedEvent,
} from '../conversations/conversations.events.js';
import { rtConversation, type RtEnvelope } from '../realtime/protocol.js';
import { AssistService } from './assist.service.js';

export const BOT_HANDED_OVER_SUBJECT = 'sb.evt.bot.handed_over';

/**
 * Pushes assist data to the agents who have a conversation open, over the realtime gateway:
 * a `conversation.event` frame with `type: "assist"` on the conversation's topic (visitors never
 * receive it: the gateway forwards only resolved/reopened events to them). Sent when a customer
 * writes in a conversation an agent holds, when a conversation is assigned, and at bot
 * hand-over (with the summary). Conversations the bot handles alone are skipped.
 */
@Injectable()
export class AssistPusher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('assist-push');
  private readonly handles: Closable[] = [];
  pushed = 0;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly conversations: ConversationsService,
    private readonly assist: AssistService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handles.push(
      await this.bus.consume<EventEnvelope<MessageCreatedEvent>>({
        name: 'assist-push-message',
        subject: CONVERSATION_MESSAGE_CREATED,
        delivery: 'one-instance',
        concurrency: 4,
        handler: async (message) => {
          const data = message.data?.data;
          if (!data || data.direction !== 'in' || data.authorType !== 'contact') return;
          // Events carry the assignee at write time; older events without it are looked up.
          const assigneeId =
            data.assigneeId !== undefined ? data.assigneeId : (await this.conversations.get(data.conversationId).catch(() => null))?.assigneeId;
          if (!assigneeId) return;
          await this.push(data.conversationId, false);
        },
      }),
      await this.bus.consume<EventEnvelope<ConversationAssignedEvent>>({
        name: 'assist-push-assigned',
        subject: CONVERSATION_ASSIGNED,
        delivery: 'one-instance',
        handler: async (message) => {
          const data = message.data?.data;
          if (data?.agentId) await this.push(data.conversationId, true);
        },
      }),
      await this.bus.consume<EventEnvelope<{ conversationId: string }>>({
        name: 'assist-push-handover',
        subject: BOT_HANDED_OVER_SUBJECT,
        delivery: 'one-instance',
        handler: async (message) => {
          const id = message.data?.data?.conversationId;
          if (id) await this.push(id, true);
        },
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(this.handles.map((h) => h.close()));
  }

  async push(conversationId: string, withSummary: boolean): Promise<void> {
    try {
      const snapshot = await this.assist.snapshot(null, conversationId);
      const summary = withSummary ? (await this.assist.summary(null, conversationId)).summary : undefined;
      const envelope: RtEnvelope = {
        kind: 'event',
        conversationId,
        data: { type: 'assist', ...snapshot, ...(summary !== undefined ? { summary } : {}) } as Record<string, unknown>,
      };
      this.bus.broadcast(rtConversation(conversationId), envelope);
      this.pushed++;
    } catch (error) {
      this.logger.warn({ conversationId, reason: (error as Error).message }, 'assist push failed');
    }
  }
}
