import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BigIntColumn, JsonColumn, TimestampColumn } from '../../platform/database/entity-columns.js';

export type PresenceStatus = 'online' | 'away' | 'offline';

/**
 * One row per agent: routing profile, presence and the capacity counter that assignment
 * claims with a conditional UPDATE (`load_units + w <= max_concurrent * 100`).
 */
@Entity('routing_agents')
export class RoutingAgentRow {
  @PrimaryColumn({ name: 'agent_id', type: 'varchar', length: 191 })
  agentId: string;

  /** Team membership as last seen on the agent's authenticated actor (identity owns teams). */
  @JsonColumn({ name: 'team_ids' })
  teamIds: string[];

  @JsonColumn()
  skills: string[];

  @JsonColumn()
  languages: string[];

  @Column({ name: 'max_concurrent', type: 'integer' })
  maxConcurrent: number;

  /** channel → weight (1 = one conversation); a missing channel weighs 1. */
  @JsonColumn({ name: 'channel_weights' })
  channelWeights: Record<string, number>;

  @Column({ type: 'varchar', length: 16 })
  status: PresenceStatus;

  /** What the agent chose last; a heartbeat after a timeout restores it. */
  @Column({ name: 'desired_status', type: 'varchar', length: 16 })
  desiredStatus: PresenceStatus;

  /** `manual` (agent or supervisor) or `timeout` (missed heartbeats). */
  @Column({ name: 'status_reason', type: 'varchar', length: 16 })
  statusReason: 'manual' | 'timeout' | 'supervisor';

  @TimestampColumn({ name: 'status_changed_at' })
  statusChangedAt: Date;

  @TimestampColumn({ name: 'last_seen_at', nullable: true })
  lastSeenAt: Date | null;

  /** Sum of the weights of the conversations assigned now, in hundredths. */
  @Column({ name: 'load_units', type: 'integer' })
  loadUnits: number;

  @Column({ name: 'active_count', type: 'integer' })
  activeCount: number;

  @TimestampColumn({ name: 'last_assigned_at', nullable: true })
  lastAssignedAt: Date | null;

  @BigIntColumn({ name: 'assign_counter' })
  assignCounter: number;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
