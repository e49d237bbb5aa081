import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import type {
  ConversationAssignedEvent,
  ConversationCreatedEvent,
  ConversationUpdatedEvent,
  MessageAnnotatedEvent,
  MessageCreatedEvent,
} from '../conversations/conversations.events.js';
import { RealtimeHub } from './realtime.hub.js';
import { rtAgent, rtConversation, rtInbox, rtTicket, type RtEnvelope } from './protocol.js';

/**
 * Turns durable domain events into ephemeral realtime broadcasts. One instance handles each
 * event (a shared durable consumer), reads what clients need (the message itself), and
 * broadcasts on `sb.rt.*`, which every instance's hub receives. A broadcast that is lost is
 * not a lost message: conversation feeds detect the seq gap and read it from the database.
 */
@Injectable()
export class RealtimeFanout implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('realtime-fanout');
  private readonly handles: Closable[] = [];

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly hub: RealtimeHub,
    private readonly conversations: ConversationsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handles.push(
      await this.bus.consume<EventEnvelope<Record<string, unknown>>>({
        name: 'realtime-conversation-fanout',
        subject: 'sb.evt.conversation.>',
        delivery: 'one-instance',
        concurrency: 16,
        maxDeliver: 3,
        backoffMs: [100, 500],
        handler: async (message) => this.onConversationEvent(message.subject, message.data),
      }),
      await this.bus.consume<EventEnvelope<Record<string, unknown>>>({
        name: 'realtime-ticket-fanout',
        subject: 'sb.evt.ticket.>',
        delivery: 'one-instance',
        concurrency: 4,
        maxDeliver: 3,
        backoffMs: [100, 500],
        handler: async (message) => this.onTicketEvent(message.subject, message.data),
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(this.handles.map((handle) => handle.close()));
  }

  private async onConversationEvent(subject: string, event: EventEnvelope<Record<string, unknown>>): Promise<void> {
    const type = subject.slice('sb.evt.conversation.'.length);
    const data = event.data;
    const conversationId = String(data.conversationId ?? '');
    if (!conversationId) return;
    if (type === 'message_created') {
      const created = data as unknown as MessageCreatedEvent;
      const message = await this.conversations.getMessage(created.messageId, { recent: true });
      this.hub.publish(rtConversation(conversationId), {
        kind: 'message',
        conversationId,
        seq: created.seq,
        private: created.private,
        data: message as unknown as Record<string, unknown>,
      });
      this.hub.publish(rtInbox(created.inboxId), {
        kind: 'event',
        conversationId,
        seq: created.seq,
        data: {
          type: 'message',
          direction: created.direction,
          authorType: created.authorType,
          private: created.private,
          teamId: created.teamId,
          inboxId: created.inboxId,
        },
      });
      return;
    }
    if (type === 'created') {
      const created = data as unknown as ConversationCreatedEvent;
      this.hub.publish(rtInbox(created.inboxId), { kind: 'event', conversationId, data: { type: 'created', ...created } });
      return;
    }
    if (type === 'message_annotated') {
      // NLP metadata of one message: only for the conversation's own (already authorised) subscribers.
      const annotated = data as unknown as MessageAnnotatedEvent;
      this.hub.publish(rtConversation(conversationId), { kind: 'event', conversationId, seq: annotated.seq, data: { type, ...data } });
      return;
    }
    // Status, assignment and other changes: the conversation's own subscribers, its inbox, and the agents involved.
    const view = await this.conversations.get(conversationId).catch(() => null);
    const envelope: RtEnvelope = {
      kind: 'event',
      conversationId,
      seq: view?.lastSeq ?? (data as unknown as ConversationUpdatedEvent).seq,
      data: { type, ...data, teamId: view?.teamId ?? (data.teamId as string | null | undefined) ?? null, inboxId: view?.inboxId ?? null },
    };
    this.hub.publish(rtConversation(conversationId), envelope);
    if (view) this.hub.publish(rtInbox(view.inboxId), envelope);
    if (type === 'assigned') {
      const assigned = data as unknown as ConversationAssignedEvent;
      const payload = {
        conversationId,
        agentId: assigned.agentId,
        previousAgentId: assigned.previousAgentId,
        teamId: assigned.teamId,
        inboxId: view?.inboxId ?? null,
        lastSeq: view?.lastSeq ?? 0,
      };
      if (assigned.agentId) this.hub.publish(rtAgent(assigned.agentId), { kind: 'assignment', conversationId, data: { ...payload, assigned: true } });
      if (assigned.previousAgentId && assigned.previousAgentId !== assigned.agentId) {
        this.hub.publish(rtAgent(assigned.previousAgentId), { kind: 'assignment', conversationId, data: { ...payload, assigned: false } });
      }
    }
  }

  private async onTicketEvent(subject: string, event: EventEnvelope<Record<string, unknown>>): Promise<void> {
    const ticketId = event.data.ticketId;
    if (typeof ticketId !== 'string') return;
    this.hub.publish(rtTicket(ticketId), { kind: 'ticket', data: { type: subject.slice('sb.evt.ticket.'.length), ...event.data } });
  }
}
