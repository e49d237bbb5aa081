import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { BigIntColumn, BoolColumn, JsonColumn, TimestampColumn } from '../../platform/database/entity-columns.js';

export const CHANNEL_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** An inbox: where a channel plugin instance delivers; it decides a new conversation's team. */
@Entity('inboxes')
export class InboxRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 64 })
  channel: string;

  @Column({ name: 'team_id', type: 'varchar', length: 36, nullable: true })
  teamId: string | null;

  @JsonColumn()
  settings: Record<string, unknown>;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}

export const CONVERSATION_STATUSES = ['open', 'pending', 'snoozed', 'resolved'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

@Entity('conversations')
@Index('ix_conversations_team_status', ['teamId', 'status', 'updatedAt'])
@Index('ix_conversations_status_updated', ['status', 'updatedAt'])
@Index('ix_conversations_contact', ['contactId', 'createdAt'])
@Index('ix_conversations_assignee', ['assigneeId', 'status'])
@Index('ix_conversations_inbox', ['inboxId', 'createdAt'])
@Index('ux_conversations_open_key', ['openKey'], { unique: true })
export class ConversationRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'contact_id', type: 'varchar', length: 36 })
  contactId: string;

  @Column({ name: 'inbox_id', type: 'varchar', length: 36 })
  inboxId: string;

  @Column({ type: 'varchar', length: 64 })
  channel: string;

  @Column({ type: 'varchar', length: 16 })
  status: ConversationStatus;

  @TimestampColumn({ name: 'snoozed_until', nullable: true })
  snoozedUntil: Date | null;

  @Column({ type: 'varchar', length: 16 })
  priority: Priority;

  @Column({ name: 'assignee_id', type: 'varchar', length: 191, nullable: true })
  assigneeId: string | null;

  @Column({ name: 'team_id', type: 'varchar', length: 36, nullable: true })
  teamId: string | null;

  @JsonColumn()
  tags: string[];

  @Column({ name: 'thread_key', type: 'varchar', length: 191, nullable: true })
  threadKey: string | null;

  /**
   * Set while the conversation is not resolved: hash of (inbox, contact, thread). Unique, so two
   * first messages racing in cannot open two conversations for the same thread.
   */
  @Column({ name: 'open_key', type: 'varchar', length: 64, nullable: true })
  openKey: string | null;

  /** The per-conversation message counter: the last `seq` handed out. */
  @BigIntColumn({ name: 'last_seq', default: 0 })
  lastSeq: number;

  @TimestampColumn({ name: 'last_message_at', nullable: true })
  lastMessageAt: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;

  @TimestampColumn({ name: 'resolved_at', nullable: true })
  resolvedAt: Date | null;
}

export type Direction = 'in' | 'out';
export const AUTHOR_TYPES = ['contact', 'agent', 'bot', 'system'] as const;
export type AuthorType = (typeof AUTHOR_TYPES)[number];

@Entity('messages')
@Index('ux_messages_conversation_seq', ['conversationId', 'seq'], { unique: true })
@Index('ux_messages_conversation_idem', ['conversationId', 'idempotencyKey'], { unique: true })
@Index('ux_messages_inbound_key', ['inboundKey'], { unique: true })
@Index('ix_messages_created', ['createdAt'])
export class MessageRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'conversation_id', type: 'varchar', length: 36 })
  conversationId: string;

  @BigIntColumn()
  seq: number;

  @Column({ type: 'varchar', length: 3 })
  direction: Direction;

  @Column({ name: 'author_type', type: 'varchar', length: 16 })
  authorType: AuthorType;

  @Column({ name: 'author_id', type: 'varchar', length: 191, nullable: true })
  authorId: string | null;

  @Column({ type: 'text' })
  text: string;

  @JsonColumn({ nullable: true })
  content: Record<string, unknown> | null;

  @JsonColumn({ nullable: true })
  attachments: Array<Record<string, unknown>> | null;

  @BoolColumn({ default: false })
  private: boolean;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 191, nullable: true })
  idempotencyKey: string | null;

  /** Inbound only: hash of (inbox, channel idempotency key), unique across the inbox's conversations. */
  @Column({ name: 'inbound_key', type: 'varchar', length: 64, nullable: true })
  inboundKey: string | null;

  @Column({ name: 'external_message_id', type: 'varchar', length: 191, nullable: true })
  externalMessageId: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  language: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  intent: string | null;

  @Column({ name: 'intent_confidence', type: 'double', nullable: true })
  intentConfidence: number | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  emotion: string | null;

  @JsonColumn({ nullable: true })
  flags: string[] | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
