import { Injectable } from '@nestjs/common';
import { ConversationsService } from '../conversations/conversations.service.js';
import { ContactsService } from '../contacts/contacts.service.js';
import type { Actor } from '../identity/actor.js';
import type { ContactPort, ConversationPort } from './conversation-port.js';

const SYSTEM: Actor = { kind: 'system', id: 'automation', roles: ['admin'], teamIds: [], scopes: [] };

/** ConversationPort backed by the conversations module's exported service. */
@Injectable()
export class ConversationsAdapter implements ConversationPort {
  constructor(private readonly conversations: ConversationsService) {}

  async get(id: string) {
    try {
      return await this.conversations.get(id);
    } catch {
      return null;
    }
  }

  async getMessage(id: string, options?: { recent?: boolean }) {
    try {
      const message = await this.conversations.getMessage(id, options);
      return { ...message, annotations: message.annotations as unknown as Record<string, unknown> };
    } catch {
      return null;
    }
  }

  async postMessage(
    actor: Actor,
    conversationId: string,
    input: { text: string; private?: boolean; content?: Record<string, unknown>; idempotencyKey: string },
  ) {
    const system = actor.kind === 'system';
    await this.conversations.postMessage(actor, conversationId, {
      text: input.text,
      private: input.private,
      content: input.content ?? null,
      idempotencyKey: input.idempotencyKey,
      ...(system ? { authorType: 'system' as const, authorId: actor.id } : {}),
    });
  }

  async setPriority(id: string, priority: string) {
    await this.conversations.setPriority(id, priority as never, SYSTEM);
  }

  async setTags(id: string, tags: string[]) {
    await this.conversations.setTags(id, tags, SYSTEM);
  }

  async setStatus(id: string, status: string) {
    await this.conversations.setStatus(id, { status: status as never }, SYSTEM);
  }

  async assign(id: string, input: { agentId?: string | null; teamId?: string | null }) {
    const current = await this.conversations.get(id);
    await this.conversations.assign(id, { agentId: input.agentId === undefined ? current.assigneeId : input.agentId, teamId: input.teamId }, SYSTEM);
  }
}

@Injectable()
export class ContactsAdapter implements ContactPort {
  constructor(private readonly contacts: ContactsService) {}

  async get(id: string) {
    try {
      const contact = await this.contacts.get(id);
      return { name: contact.name, email: contact.emails[0]?.value ?? null, language: contact.language, vip: contact.vip, tags: contact.tags };
    } catch {
      return null;
    }
  }
}
