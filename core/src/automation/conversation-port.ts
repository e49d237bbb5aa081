import type { Actor } from '../identity/actor.js';

/**
 * What automation and CSAT need from conversations. Implemented with ConversationsService
 * (see automation.module.ts); kept as a port so the rule engine is testable on its own and
 * so conversation calls always run outside the rule's own transaction.
 */
export interface ConversationPort {
  get(conversationId: string): Promise<{
    id: string;
    contactId: string;
    teamId: string | null;
    status: string;
    priority: string;
    tags: string[];
    channel: string;
    inboxId: string;
    assigneeId: string | null;
  } | null>;
  /** `recent`: the snapshot taken at creation may answer (annotations may lag); see ConversationsService.getMessage. */
  getMessage(
    messageId: string,
    options?: { recent?: boolean },
  ): Promise<{
    id: string;
    text: string;
    direction: string;
    authorType: string;
    authorId: string | null;
    private: boolean;
    annotations: Record<string, unknown>;
  } | null>;
  postMessage(
    actor: Actor,
    conversationId: string,
    input: { text: string; private?: boolean; content?: Record<string, unknown>; idempotencyKey: string },
  ): Promise<void>;
  setPriority(conversationId: string, priority: string): Promise<void>;
  setTags(conversationId: string, tags: string[]): Promise<void>;
  setStatus(conversationId: string, status: string): Promise<void>;
  assign(conversationId: string, input: { agentId?: string | null; teamId?: string | null }): Promise<void>;
}

export const CONVERSATION_PORT = Symbol('CONVERSATION_PORT');

export interface ContactPort {
  get(contactId: string): Promise<{ name: string | null; email: string | null; language: string | null; vip: boolean; tags: string[] } | null>;
}

export const CONTACT_PORT = Symbol('CONTACT_PORT');
