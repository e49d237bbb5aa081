import type { AuthorType, ConversationStatus, Direction, Priority } from './entities/conversation.entity.js';

export interface InboxView {
  id: string;
  name: string;
  channel: string;
  teamId: string | null;
  settings: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface ConversationView {
  id: string;
  contactId: string;
  inboxId: string;
  channel: string;
  status: ConversationStatus;
  snoozedUntil: string | null;
  priority: Priority;
  assigneeId: string | null;
  teamId: string | null;
  tags: string[];
  threadKey: string | null;
  /** The last message's seq (0 before the first message). */
  lastSeq: number;
  lastMessageAt: string | null;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
}

export interface MessageAnnotations {
  language: string | null;
  intent: string | null;
  intentConfidence: number | null;
  emotion: string | null;
  flags: string[] | null;
}

/**
 * Attachment metadata on a message: a stored upload (`id`, with `sha256`; download it from
 * `/api/v1/attachments/:id/content`) or an external link (`url`). To attach an upload, a message
 * lists `{ id }` alone; the service fills in the rest from the stored file.
 */
export interface Attachment {
  id?: string;
  name: string;
  contentType: string;
  size: number;
  sha256?: string;
  url?: string;
  storageKey?: string;
}

/** What a writer may send: link metadata, or a reference to an upload of the same conversation. */
export type AttachmentInput = Attachment | { id: string };

export interface MessageView {
  id: string;
  conversationId: string;
  seq: number;
  direction: Direction;
  authorType: AuthorType;
  authorId: string | null;
  text: string;
  content: Record<string, unknown> | null;
  attachments: Attachment[] | null;
  private: boolean;
  idempotencyKey: string | null;
  externalMessageId: string | null;
  annotations: MessageAnnotations;
  createdAt: string;
}

export interface ExternalContact {
  externalId: string;
  verified: boolean;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  language?: string | null;
}

export interface IngestInboundInput {
  inboxId: string;
  externalContact: ExternalContact;
  /** The channel's own message id or a client key: a repeat returns the original message. */
  idempotencyKey: string;
  text: string;
  content?: Record<string, unknown> | null;
  attachments?: AttachmentInput[] | null;
  externalMessageId?: string | null;
  /** Channels with threads (email subjects, chat topics) keep one conversation per thread. */
  threadKey?: string | null;
}

export interface IngestInboundResult {
  conversation: ConversationView;
  message: MessageView;
  contactId: string;
  createdConversation: boolean;
  duplicate: boolean;
}

export interface PostMessageInput {
  text: string;
  content?: Record<string, unknown> | null;
  attachments?: AttachmentInput[] | null;
  /** An internal note: stored, shown to agents, never delivered to the contact. */
  private?: boolean;
  idempotencyKey: string;
  /** Only for `system` actors: `bot` (default) or `system`. Users and API keys always write as `agent`. */
  authorType?: 'bot' | 'system';
  /** Only for `system` actors: the bot or component id recorded as author. */
  authorId?: string;
}

export interface PostMessageResult {
  message: MessageView;
  duplicate: boolean;
}

export interface ConversationFilter {
  status?: ConversationStatus;
  inboxId?: string;
  teamId?: string;
  assigneeId?: string;
  /** `none` lists unassigned conversations. */
  unassigned?: boolean;
  contactId?: string;
  priority?: Priority;
  channel?: string;
  tag?: string;
  sort?: string;
  cursor?: string;
  limit?: number;
}
