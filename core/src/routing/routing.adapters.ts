import { Injectable } from '@nestjs/common';
import { ConversationsService } from '../conversations/conversations.service.js';
import { ContactsService } from '../contacts/contacts.service.js';
import type { Actor } from '../identity/actor.js';
import type { ConversationFacts, RoutingContactsPort, RoutingConversationsPort } from './routing.ports.js';

/** Binds routing's conversations port to ConversationsService (its public API only). */
@Injectable()
export class ConversationsAdapter implements RoutingConversationsPort {
  constructor(private readonly conversations: ConversationsService) {}

  async get(conversationId: string): Promise<ConversationFacts | null> {
    try {
      const view = await this.conversations.get(conversationId);
      return {
        id: view.id,
        teamId: view.teamId,
        inboxId: view.inboxId,
        contactId: view.contactId,
        channel: view.channel,
        status: view.status,
        assigneeId: view.assigneeId,
        priority: view.priority,
      };
    } catch (error) {
      if ((error as { status?: number }).status === 404) return null;
      throw error;
    }
  }

  async assign(conversationId: string, target: { agentId: string | null; teamId: string | null }): Promise<void> {
    await this.conversations.assign(conversationId, { agentId: target.agentId, teamId: target.teamId });
  }

  async addNote(actor: Actor, conversationId: string, text: string, idempotencyKey: string): Promise<void> {
    await this.conversations.postMessage(actor, conversationId, { text, private: true, idempotencyKey });
  }
}

@Injectable()
export class ContactsAdapter implements RoutingContactsPort {
  constructor(private readonly contacts: ContactsService) {}

  async facts(contactId: string): Promise<{ vip: boolean; language: string | null } | null> {
    return this.contacts.facts(contactId);
  }
}
