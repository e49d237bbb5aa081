import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from '../../platform/database/entity-columns.js';

export type AssignmentKind = 'auto' | 'sticky' | 'manual' | 'override' | 'transfer_team' | 'requeue' | 'external' | 'release';

/** Append-only history of routing decisions (who got what, why, and by whom). */
@Entity('routing_assignments')
@Index('ix_routing_assignments_conversation', ['conversationId', 'id'])
export class RoutingAssignmentRow {
  @PrimaryGeneratedColumn({ name: 'id' })
  id: number;

  @Column({ name: 'conversation_id', type: 'varchar', length: 64 })
  conversationId: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 191, nullable: true })
  agentId: string | null;

  @Column({ name: 'team_id', type: 'varchar', length: 64, nullable: true })
  teamId: string | null;

  @Column({ type: 'varchar', length: 32 })
  kind: AssignmentKind;

  @Column({ name: 'actor_id', type: 'varchar', length: 191, nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  note: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
