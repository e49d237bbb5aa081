import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../../platform/database/entity-columns.js';
import type { TicketPriority, TicketStatus, TicketType } from '../tickets.types.js';

@Entity('tickets')
@Index('ix_tickets_team_status_updated', ['teamId', 'status', 'updatedAt'])
@Index('ix_tickets_status_updated', ['status', 'updatedAt'])
@Index('ix_tickets_assignee_status_updated', ['assigneeId', 'status', 'updatedAt'])
@Index('ix_tickets_requester_created', ['requesterContactId', 'createdAt'])
@Index('ix_tickets_updated', ['updatedAt'])
@Index('ix_tickets_created', ['createdAt'])
export class TicketRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** Allocated from `ticket_counters`; shown as `T-<number>`. */
  @Column({ type: 'integer', unique: true })
  number: number;

  @Column({ type: 'varchar', length: 500 })
  subject: string;

  @Column({ type: 'text' })
  description: string;

  @Column({ type: 'varchar', length: 32 })
  type: TicketType;

  @Column({ type: 'varchar', length: 16 })
  status: TicketStatus;

  @Column({ type: 'varchar', length: 16 })
  priority: TicketPriority;

  @Column({ name: 'requester_contact_id', type: 'varchar', length: 36, nullable: true })
  requesterContactId: string | null;

  @Column({ name: 'assignee_id', type: 'varchar', length: 191, nullable: true })
  assigneeId: string | null;

  @Column({ name: 'team_id', type: 'varchar', length: 36, nullable: true })
  teamId: string | null;

  @JsonColumn({ name: 'tags' })
  tags: string[];

  @JsonColumn({ name: 'custom_fields' })
  customFields: Record<string, string | number | boolean | null>;

  @Column({ name: 'sla_policy_id', type: 'varchar', length: 36, nullable: true })
  slaPolicyId: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 191, nullable: true })
  createdBy: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;

  @TimestampColumn({ name: 'solved_at', nullable: true })
  solvedAt: Date | null;

  @TimestampColumn({ name: 'closed_at', nullable: true })
  closedAt: Date | null;

  @TimestampColumn({ name: 'first_responded_at', nullable: true })
  firstRespondedAt: Date | null;

  @Column({ type: 'integer', default: 1 })
  version: number;
}
