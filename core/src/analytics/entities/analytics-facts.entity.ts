import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { BoolColumn, TimestampColumn } from '../../platform/database/entity-columns.js';

/**
 * The analytics read model: one row per conversation, per agent response and per ticket,
 * built only from bus events. Reports read these tables, never another module's.
 */
@Entity('analytics_conversations')
@Index('ix_analytics_conv_created', ['createdAt'])
@Index('ix_analytics_conv_resolved', ['resolvedAt'])
@Index('ix_analytics_conv_contact', ['contactId', 'createdAt'])
export class ConversationFactRow {
  @PrimaryColumn({ name: 'conversation_id', type: 'varchar', length: 64 })
  conversationId: string;

  @Column({ name: 'contact_id', type: 'varchar', length: 64, nullable: true })
  contactId: string | null;

  @Column({ name: 'inbox_id', type: 'varchar', length: 64, nullable: true })
  inboxId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  channel: string | null;

  @Column({ name: 'team_id', type: 'varchar', length: 64, nullable: true })
  teamId: string | null;

  @Column({ name: 'agent_id', type: 'varchar', length: 64, nullable: true })
  agentId: string | null;

  @TimestampColumn({ name: 'created_at', nullable: true })
  createdAt: Date | null;

  @TimestampColumn({ name: 'first_inbound_at', nullable: true })
  firstInboundAt: Date | null;

  @TimestampColumn({ name: 'first_response_at', nullable: true })
  firstResponseAt: Date | null;

  /** Oldest customer message not yet answered by an agent. */
  @TimestampColumn({ name: 'awaiting_since', nullable: true })
  awaitingSince: Date | null;

  @TimestampColumn({ name: 'resolved_at', nullable: true })
  resolvedAt: Date | null;

  @Column({ name: 'resolved_count', type: 'integer', default: 0 })
  resolvedCount: number;

  @Column({ name: 'reopen_count', type: 'integer', default: 0 })
  reopenCount: number;

  @BoolColumn({ name: 'bot_replied', default: false })
  botReplied: boolean;

  @BoolColumn({ name: 'handed_over', default: false })
  handedOver: boolean;

  @BoolColumn({ name: 'csat_requested', default: false })
  csatRequested: boolean;

  @Column({ name: 'csat_score', type: 'integer', nullable: true })
  csatScore: number | null;
}

@Entity('analytics_responses')
@Index('ix_analytics_resp_at', ['respondedAt'])
export class ResponseFactRow {
  @PrimaryGeneratedColumn()
  id: number;

  /** The message event that answered; unique so a replayed event cannot count twice. */
  @Column({ name: 'message_id', type: 'varchar', length: 64, unique: true })
  messageId: string;

  @Column({ name: 'conversation_id', type: 'varchar', length: 64 })
  conversationId: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 64, nullable: true })
  agentId: string | null;

  @Column({ name: 'team_id', type: 'varchar', length: 64, nullable: true })
  teamId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  channel: string | null;

  @TimestampColumn({ name: 'waiting_since' })
  waitingSince: Date;

  @TimestampColumn({ name: 'responded_at' })
  respondedAt: Date;

  @BoolColumn({ name: 'is_first', default: false })
  isFirst: boolean;
}

@Entity('analytics_tickets')
@Index('ix_analytics_ticket_solved', ['solvedAt'])
export class TicketFactRow {
  @PrimaryColumn({ name: 'ticket_id', type: 'varchar', length: 64 })
  ticketId: string;

  @Column({ name: 'team_id', type: 'varchar', length: 64, nullable: true })
  teamId: string | null;

  @Column({ name: 'agent_id', type: 'varchar', length: 64, nullable: true })
  agentId: string | null;

  @TimestampColumn({ name: 'created_at', nullable: true })
  createdAt: Date | null;

  @TimestampColumn({ name: 'solved_at', nullable: true })
  solvedAt: Date | null;

  @BoolColumn({ name: 'sla_breached', default: false })
  slaBreached: boolean;

  @BoolColumn({ name: 'has_sla', default: false })
  hasSla: boolean;
}
