import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../../platform/database/entity-columns.js';
import type { BotConfig, FlowDefinition, SessionState } from '../bot.types.js';

/** The bot's configuration for one inbox. */
@Entity('bot_configs')
export class BotConfigRow {
  @PrimaryColumn({ name: 'inbox_id', type: 'varchar', length: 36 }) inboxId: string;
  @JsonColumn({ name: 'config' }) config: BotConfig;
  @Column({ type: 'integer' }) version: number;
  @Column({ name: 'updated_by', type: 'varchar', length: 191, nullable: true }) updatedBy: string | null;
  @TimestampColumn({ name: 'updated_at' }) updatedAt: Date;
}

/** A flow definition version (JSON or YAML source kept as written). */
@Entity('bot_flows')
@Index('ux_bot_flows_version', ['name', 'version'], { unique: true })
export class BotFlowRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 100 }) name: string;
  @Column({ type: 'integer' }) version: number;
  @Column({ type: 'varchar', length: 16 }) status: 'draft' | 'active' | 'retired';
  @Column({ type: 'varchar', length: 8 }) format: 'json' | 'yaml';
  @Column({ type: 'text' }) source: string;
  @JsonColumn({ name: 'definition' }) definition: FlowDefinition;
  @Column({ name: 'created_by', type: 'varchar', length: 191, nullable: true }) createdBy: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
}

/** The bot's state in one conversation. */
@Entity('bot_sessions')
export class BotSessionRow {
  @PrimaryColumn({ name: 'conversation_id', type: 'varchar', length: 36 }) conversationId: string;
  @Column({ name: 'inbox_id', type: 'varchar', length: 36 }) inboxId: string;
  @Column({ type: 'varchar', length: 16 }) mode: 'bot' | 'handed_over';
  @JsonColumn({ name: 'state' }) state: SessionState;
  @Column({ type: 'integer' }) version: number;
  @Column({ name: 'handover_reason', type: 'varchar', length: 32, nullable: true }) handoverReason: string | null;
  @TimestampColumn({ name: 'handed_over_at', nullable: true }) handedOverAt: Date | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
  @TimestampColumn({ name: 'updated_at' }) updatedAt: Date;
}

/** One bot turn: what it understood and what it did. Text is not copied: `messageId` points at it. */
@Entity('bot_turns')
@Index('ix_bot_turns_conversation', ['conversationId', 'createdAt'])
@Index('ix_bot_turns_inbox', ['inboxId', 'createdAt'])
export class BotTurnRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'message_id', type: 'varchar', length: 36, unique: true }) messageId: string;
  @Column({ name: 'conversation_id', type: 'varchar', length: 36 }) conversationId: string;
  @Column({ name: 'inbox_id', type: 'varchar', length: 36 }) inboxId: string;
  @Column({ type: 'varchar', length: 100, nullable: true }) intent: string | null;
  @Column({ type: 'double', nullable: true }) confidence: number | null;
  @Column({ type: 'varchar', length: 32 }) action: string;
  @Column({ name: 'kb_entry_id', type: 'varchar', length: 36, nullable: true }) kbEntryId: string | null;
  @Column({ name: 'kb_score', type: 'double', nullable: true }) kbScore: number | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) language: string | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) emotion: string | null;
  @Column({ name: 'flow_name', type: 'varchar', length: 100, nullable: true }) flowName: string | null;
  @Column({ type: 'varchar', length: 100, nullable: true }) reason: string | null;
  /** Intent label set by a reviewer, for retraining. */
  @Column({ type: 'varchar', length: 100, nullable: true }) label: string | null;
  @Column({ name: 'latency_ms', type: 'double', nullable: true }) latencyMs: number | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
}

export const BOT_ENTITIES = [BotConfigRow, BotFlowRow, BotSessionRow, BotTurnRow];
