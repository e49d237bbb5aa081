import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { ConversationFactRow, ResponseFactRow, TicketFactRow } from './entities/analytics-facts.entity.js';
import type { BotEventData, ConversationEventData, CsatEventData, TicketEventData } from './analytics.events.js';

const blankConversation = (conversationId: string): ConversationFactRow =>
  Object.assign(new ConversationFactRow(), {
    conversationId,
    contactId: null,
    inboxId: null,
    channel: null,
    teamId: null,
    agentId: null,
    createdAt: null,
    firstInboundAt: null,
    firstResponseAt: null,
    awaitingSince: null,
    resolvedAt: null,
    resolvedCount: 0,
    reopenCount: 0,
    botReplied: false,
    handedOver: false,
    csatRequested: false,
    csatScore: null,
  });

/**
 * Folds domain events into the analytics read model. Runs inside the idempotent consumer's
 * transaction, so each event is applied exactly once. Events may arrive before the
 * conversation's `created` event (different streams), so every handler upserts.
 */
@Injectable()
export class AnalyticsProjector {
  async apply(envelope: EventEnvelope<unknown>, manager: EntityManager): Promise<void> {
    const at = new Date(envelope.occurredAt);
    const kind = envelope.subject.replace(/^sb\.evt\./, '');
    if (kind.startsWith('conversation.')) return this.conversation(kind.slice('conversation.'.length), envelope.data as ConversationEventData, at, manager);
    if (kind.startsWith('ticket.')) return this.ticket(kind.slice('ticket.'.length), envelope.data as TicketEventData, at, manager);
    if (kind.startsWith('csat.')) return this.csat(kind.slice('csat.'.length), envelope.data as CsatEventData, manager);
    if (kind === 'bot.handed_over') return this.handedOver(envelope.data as BotEventData, manager);
  }

  private async loadConversation(manager: EntityManager, conversationId: string): Promise<ConversationFactRow> {
    return (await manager.findOne(ConversationFactRow, { where: { conversationId } })) ?? blankConversation(conversationId);
  }

  private async conversation(event: string, data: ConversationEventData, at: Date, manager: EntityManager): Promise<void> {
    if (!data?.conversationId) return;
    const fact = await this.loadConversation(manager, data.conversationId);
    fact.contactId = data.contactId ?? fact.contactId;
    fact.inboxId = data.inboxId ?? fact.inboxId;
    fact.channel = data.channel ?? fact.channel;
    if (data.teamId !== undefined && event !== 'message_created') fact.teamId = data.teamId;
    if (fact.teamId === null && data.teamId) fact.teamId = data.teamId;

    switch (event) {
      case 'created':
        fact.createdAt = fact.createdAt && fact.createdAt < at ? fact.createdAt : at;
        break;
      case 'assigned':
        if (data.agentId !== undefined) fact.agentId = data.agentId;
        break;
      case 'updated':
        if (data.changes && 'teamId' in data.changes) fact.teamId = (data.changes.teamId as string | null) ?? null;
        break;
      case 'resolved':
        fact.resolvedAt = at;
        fact.resolvedCount += 1;
        break;
      case 'reopened':
        fact.reopenCount += 1;
        fact.resolvedAt = null;
        break;
      case 'message_created':
        await this.message(fact, data, at, manager);
        break;
      default:
        break;
    }
    fact.createdAt ??= at;
    await manager.save(ConversationFactRow, fact);
  }

  private async message(fact: ConversationFactRow, data: ConversationEventData, at: Date, manager: EntityManager): Promise<void> {
    if (data.private) return;
    if (data.direction === 'in' && data.authorType === 'contact') {
      fact.firstInboundAt ??= at;
      fact.awaitingSince ??= at;
      return;
    }
    if (data.direction !== 'out') return;
    if (data.authorType === 'bot') {
      fact.botReplied = true;
      return;
    }
    if (data.authorType !== 'agent') return;
    if (data.authorId) fact.agentId = data.authorId;
    const waitingSince = fact.awaitingSince;
    const isFirst = fact.firstResponseAt === null;
    if (isFirst) fact.firstResponseAt = at;
    fact.awaitingSince = null;
    if (waitingSince && data.messageId) {
      await manager.insert(ResponseFactRow, {
        messageId: data.messageId,
        conversationId: fact.conversationId,
        agentId: data.authorId ?? null,
        teamId: fact.teamId,
        channel: fact.channel,
        waitingSince,
        respondedAt: at,
        isFirst,
      });
    }
  }

  private async ticket(event: string, data: TicketEventData, at: Date, manager: EntityManager): Promise<void> {
    if (!data?.ticketId) return;
    const fact =
      (await manager.findOne(TicketFactRow, { where: { ticketId: data.ticketId } })) ??
      Object.assign(new TicketFactRow(), {
        ticketId: data.ticketId,
        teamId: null,
        agentId: null,
        createdAt: null,
        solvedAt: null,
        slaBreached: false,
        hasSla: false,
      });
    if (data.teamId !== undefined) fact.teamId = data.teamId;
    if (data.assigneeId !== undefined) fact.agentId = data.assigneeId;
    if (event === 'created') fact.createdAt = at;
    if (event === 'status_changed') {
      if (data.to === 'solved' || data.to === 'closed') fact.solvedAt ??= at;
      else if (data.from === 'solved' || data.from === 'closed') fact.solvedAt = null;
    }
    if (event === 'sla_breached') fact.slaBreached = true;
    if (event === 'sla_breached' || event === 'sla_warning' || event === 'sla_applied') fact.hasSla = true;
    fact.createdAt ??= at;
    await manager.save(TicketFactRow, fact);
  }

  private async csat(event: string, data: CsatEventData, manager: EntityManager): Promise<void> {
    const conversationId = data?.conversationId ?? (data?.subjectType === 'conversation' ? data.subjectId : undefined);
    if (!conversationId) return;
    const fact = await this.loadConversation(manager, conversationId);
    if (event === 'requested') fact.csatRequested = true;
    if (event === 'responded' && typeof data.rating === 'number') {
      fact.csatRequested = true;
      fact.csatScore = data.rating;
    }
    await manager.save(ConversationFactRow, fact);
  }

  private async handedOver(data: BotEventData, manager: EntityManager): Promise<void> {
    if (!data?.conversationId) return;
    const fact = await this.loadConversation(manager, data.conversationId);
    fact.handedOver = true;
    fact.botReplied = true;
    await manager.save(ConversationFactRow, fact);
  }
}
