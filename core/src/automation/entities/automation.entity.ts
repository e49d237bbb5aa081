import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { BoolColumn, JsonColumn, TimestampColumn, type Json } from '../../platform/database/entity-columns.js';
import type { Action, Conditions, Trigger } from '../automation.types.js';

@Entity('automation_rules')
@Index('ix_automation_rules_trigger', ['trigger', 'position'])
export class AutomationRuleRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 200 }) name: string;
  @Column({ name: 'trigger_event', type: 'varchar', length: 64 }) trigger: Trigger;
  @JsonColumn({ name: 'conditions' }) conditions: Conditions;
  @JsonColumn({ name: 'actions' }) actions: Action[];
  @Column({ type: 'integer' }) position: number;
  @BoolColumn({ name: 'enabled' }) enabled: boolean;
  @BoolColumn({ name: 'stop_processing' }) stopProcessing: boolean;
  @Column({ name: 'team_id', type: 'varchar', length: 36, nullable: true }) teamId: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
  @TimestampColumn({ name: 'updated_at' }) updatedAt: Date;
}

@Entity('automation_macros')
export class AutomationMacroRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 200 }) name: string;
  @JsonColumn({ name: 'actions' }) actions: Action[];
  @Column({ name: 'team_id', type: 'varchar', length: 36, nullable: true }) teamId: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
  @TimestampColumn({ name: 'updated_at' }) updatedAt: Date;
}

@Entity('canned_responses')
export class CannedResponseRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 200 }) name: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) shortcut: string | null;
  @Column({ type: 'text' }) body: string;
  @Column({ name: 'team_id', type: 'varchar', length: 36, nullable: true }) teamId: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
  @TimestampColumn({ name: 'updated_at' }) updatedAt: Date;
}

/** One rule evaluation that acted (or was refused by loop protection). */
@Entity('automation_runs')
@Index('ix_automation_runs_object', ['objectType', 'objectId', 'createdAt'])
export class AutomationRunRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'rule_id', type: 'varchar', length: 36 }) ruleId: string;
  @Column({ name: 'object_type', type: 'varchar', length: 16 }) objectType: 'ticket' | 'conversation';
  @Column({ name: 'object_id', type: 'varchar', length: 36 }) objectId: string;
  @Column({ name: 'event_id', type: 'varchar', length: 128 }) eventId: string;
  @Column({ type: 'integer' }) depth: number;
  @Column({ type: 'varchar', length: 32 }) outcome: 'applied' | 'rate_limited' | 'failed';
  @Column({ type: 'varchar', length: 500, nullable: true }) detail: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
}

/** Side effects that must run outside the rule's transaction: conversation actions and webhooks. */
@Entity('automation_jobs')
@Index('ix_automation_jobs_due', ['status', 'nextAttemptAt'])
export class AutomationJobRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 32 }) kind: 'webhook' | 'conversation';
  @JsonColumn({ name: 'payload' }) payload: Json;
  @Column({ type: 'varchar', length: 16 }) status: 'pending' | 'done' | 'failed';
  @Column({ type: 'integer' }) attempts: number;
  @TimestampColumn({ name: 'next_attempt_at' }) nextAttemptAt: Date;
  @TimestampColumn({ name: 'claimed_until', nullable: true }) claimedUntil: Date | null;
  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true }) lastError: string | null;
  @Column({ name: 'rule_id', type: 'varchar', length: 36, nullable: true }) ruleId: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
}

export const AUTOMATION_ENTITIES = [AutomationRuleRow, AutomationMacroRow, CannedResponseRow, AutomationRunRow, AutomationJobRow];
