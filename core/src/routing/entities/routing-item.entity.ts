import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { BoolColumn, JsonColumn, TimestampColumn } from '../../platform/database/entity-columns.js';

export type RoutingItemState = 'queued' | 'assigned' | 'closed';

/** Routing's view of one conversation: its place in a team queue or its current assignee. */
@Entity('routing_items')
@Index('ix_routing_items_queue', ['state', 'teamId', 'rank'])
@Index('ix_routing_items_agent', ['agentId', 'state'])
export class RoutingItemRow {
  @PrimaryColumn({ name: 'conversation_id', type: 'varchar', length: 64 })
  conversationId: string;

  @Column({ name: 'team_id', type: 'varchar', length: 64, nullable: true })
  teamId: string | null;

  @Column({ name: 'inbox_id', type: 'varchar', length: 64, nullable: true })
  inboxId: string | null;

  @Column({ type: 'varchar', length: 64 })
  channel: string;

  @Column({ name: 'contact_id', type: 'varchar', length: 64, nullable: true })
  contactId: string | null;

  @Column({ type: 'varchar', length: 16 })
  state: RoutingItemState;

  @Column({ name: 'agent_id', type: 'varchar', length: 191, nullable: true })
  agentId: string | null;

  @Column({ name: 'claimed_units', type: 'integer' })
  claimedUnits: number;

  @Column({ type: 'varchar', length: 16 })
  priority: string;

  @BoolColumn()
  vip: boolean;

  @Column({ type: 'varchar', length: 32, nullable: true })
  emotion: string | null;

  @JsonColumn({ name: 'required_skills' })
  requiredSkills: string[];

  @Column({ type: 'varchar', length: 16, nullable: true })
  language: string | null;

  @Column({ name: 'base_score', type: 'double precision' })
  baseScore: number;

  /** `base_score - aging * minutes(enqueued_at)`: ordering by it equals ordering by the live score. */
  @Column({ type: 'double precision' })
  rank: number;

  @TimestampColumn({ name: 'enqueued_at' })
  enqueuedAt: Date;

  @TimestampColumn({ name: 'assigned_at', nullable: true })
  assignedAt: Date | null;

  /** Preferred agent: the returning customer's last agent, or the agent it was taken from. */
  @Column({ name: 'preferred_agent_id', type: 'varchar', length: 191, nullable: true })
  preferredAgentId: string | null;

  @Column({ type: 'integer' })
  version: number;

  /** The assignment is committed here but not yet confirmed by ConversationsService.assign. */
  @BoolColumn({ name: 'sync_pending' })
  syncPending: boolean;

  @Column({ name: 'assignment_count', type: 'integer' })
  assignmentCount: number;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
