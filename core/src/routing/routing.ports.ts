/**
 * What routing needs from other modules, as narrow ports. `routing.module.ts` binds them to
 * ConversationsService and ContactsService; tests may bind fakes. Routing never reads
 * another module's tables.
 */
export interface ConversationFacts {
  id: string;
  teamId: string | null;
  inboxId: string | null;
  contactId: string | null;
  channel: string;
  status: string;
  assigneeId: string | null;
  priority: unknown;
}

export interface RoutingConversationsPort {
  get(conversationId: string): Promise<ConversationFacts | null>;
  assign(conversationId: string, target: { agentId: string | null; teamId: string | null }): Promise<void>;
  /** A private note on the conversation (transfer notes). */
  addNote(actor: import('../identity/actor.js').Actor, conversationId: string, text: string, idempotencyKey: string): Promise<void>;
}

export interface RoutingContactsPort {
  /** VIP flag and preferred language of a contact, or null when unknown. */
  facts(contactId: string): Promise<{ vip: boolean; language: string | null } | null>;
}

export const ROUTING_CONVERSATIONS = Symbol('ROUTING_CONVERSATIONS');
export const ROUTING_CONTACTS = Symbol('ROUTING_CONTACTS');
