import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../../platform/database/entity-columns.js';

/** What an agent did with a suggestion: used as is, edited, or ignored. Ranks later suggestions. */
@Entity('assist_feedback')
@Index('ix_assist_feedback_key', ['suggestionKey'])
export class AssistFeedbackRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'conversation_id', type: 'varchar', length: 36 }) conversationId: string;
  @Column({ name: 'agent_id', type: 'varchar', length: 191 }) agentId: string;
  /** `kb:<entryId>` or `canned:<id>`. */
  @Column({ name: 'suggestion_key', type: 'varchar', length: 100 }) suggestionKey: string;
  @Column({ type: 'varchar', length: 16 }) action: 'used' | 'edited' | 'ignored';
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
}

export const ASSIST_ENTITIES = [AssistFeedbackRow];
