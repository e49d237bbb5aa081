import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { InboxPresence, TicketResult } from '@switchboard/plugin-sdk';
import { ConversationsService } from '../../conversations/conversations.service.js';
import { RoutingAgentsService } from '../../routing/routing-agents.service.js';
import { TicketsService } from '../../tickets/tickets.service.js';
import type { Actor } from '../../identity/actor.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { PluginError } from './plugin-host.error.js';

export interface ConversationTicketInput {
  /** The calling instance's inbox: the conversation must belong to it. */
  inboxId: string;
  instanceId: string;
  conversationId: string;
  subject: string;
  description: string;
  type: 'question' | 'incident' | 'problem' | 'task';
  priority?: 'low' | 'normal' | 'high' | 'urgent';
  tags: string[];
  idempotencyKey: string;
}

/**
 * What the plugin host needs from routing and tickets for `ctx.presence()` and `ctx.createTicket()`
 * (see docs/module-contracts.md): routing's agent presence and `TicketsService.create`. Resolved lazily
 * through the Nest container, like the conversations port (the host is platform code).
 */
export interface ServiceDeskPort {
  inboxPresence(inboxId: string): Promise<InboxPresence>;
  createConversationTicket(input: ConversationTicketInput): Promise<TicketResult>;
}

export const SERVICE_DESK_PORT = Symbol('PLUGIN_HOST_SERVICE_DESK');

/** Tickets opened by plugins are created by this system actor (`createdBy` = `plugin:<instance>`). */
const pluginActor = (instanceId: string): Actor => ({ kind: 'system', id: `plugin:${instanceId}`, roles: ['admin'], teamIds: [], scopes: [] });

@Injectable()
export class ServiceDeskAdapter implements ServiceDeskPort {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly uow: UnitOfWork,
  ) {}

  private get<T>(type: new (...args: never[]) => T): T {
    return this.moduleRef.get(type, { strict: false });
  }

  async inboxPresence(inboxId: string): Promise<InboxPresence> {
    const inbox = await this.get(ConversationsService).getInbox(inboxId);
    const agents = await this.get(RoutingAgentsService).list(inbox.teamId ? [inbox.teamId] : 'all');
    const onlineAgents = agents.filter((agent) => agent.status === 'online').length;
    return { inboxId, teamId: inbox.teamId, online: onlineAgents > 0, onlineAgents };
  }

  async createConversationTicket(input: ConversationTicketInput): Promise<TicketResult> {
    const conversation = await this.get(ConversationsService)
      .get(input.conversationId)
      .catch(() => null);
    if (!conversation || conversation.inboxId !== input.inboxId) {
      throw new PluginError('plugin_call_failed', 'createTicket: conversationId is not a conversation of this instance’s inbox');
    }
    const tickets = this.get(TicketsService);
    // The idempotency key is kept as an `external` link on the ticket, so a repeat finds it.
    const ref = `plugin:${input.instanceId}:${input.idempotencyKey}`.slice(0, 191);
    return this.uow.run(async (tx) => {
      const [existing] = await tickets.findByLink('external', ref, tx);
      if (existing) return { ticketId: existing.id, number: existing.number, duplicate: true };
      const ticket = await tickets.create(
        pluginActor(input.instanceId),
        {
          subject: input.subject,
          description: input.description,
          type: input.type,
          priority: input.priority,
          requesterContactId: conversation.contactId,
          teamId: conversation.teamId,
          tags: input.tags,
          links: [
            { kind: 'conversation', refId: conversation.id },
            { kind: 'external', refId: ref },
          ],
        },
        {},
        tx,
      );
      return { ticketId: ticket.id, number: ticket.number, duplicate: false };
    });
  }
}
