import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { BoolColumn, JsonColumn, TimestampColumn } from '../../platform/database/entity-columns.js';

export type KbKind = 'faq' | 'article';
export type KbAudience = 'public' | 'internal';
export type KbStatus = 'draft' | 'published' | 'archived';

/** What a version (and the live, published copy) holds. */
export interface KbContent {
  kind: KbKind;
  title: string;
  questions: string[];
  /** Sanitised HTML. */
  answer: string;
  language: string | null;
  tags: string[];
  audience: KbAudience;
}

/** An article or FAQ entry. `live` is the published copy the bot and search use; edits change the working copy. */
@Entity('kb_entries')
@Index('ix_kb_entries_kb', ['kbId', 'status'])
export class KbEntryRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'kb_id', type: 'varchar', length: 64 }) kbId: string;
  @Column({ type: 'varchar', length: 16 }) kind: KbKind;
  @Column({ type: 'varchar', length: 300 }) title: string;
  @JsonColumn({ name: 'questions' }) questions: string[];
  @Column({ type: 'text' }) answer: string;
  @Column({ type: 'varchar', length: 16, nullable: true }) language: string | null;
  @JsonColumn({ name: 'tags' }) tags: string[];
  @Column({ type: 'varchar', length: 16 }) audience: KbAudience;
  @Column({ type: 'varchar', length: 16 }) status: KbStatus;
  @Column({ name: 'team_id', type: 'varchar', length: 64, nullable: true }) teamId: string | null;
  @Column({ type: 'integer' }) version: number;
  @Column({ name: 'published_version', type: 'integer', nullable: true }) publishedVersion: number | null;
  @JsonColumn({ name: 'live', nullable: true }) live: KbContent | null;
  @Column({ type: 'integer' }) helpful: number;
  @Column({ name: 'not_helpful', type: 'integer' }) notHelpful: number;
  @Column({ name: 'created_by', type: 'varchar', length: 191, nullable: true }) createdBy: string | null;
  @Column({ name: 'updated_by', type: 'varchar', length: 191, nullable: true }) updatedBy: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
  @TimestampColumn({ name: 'updated_at' }) updatedAt: Date;
  @TimestampColumn({ name: 'published_at', nullable: true }) publishedAt: Date | null;
}

@Entity('kb_versions')
@Index('ux_kb_versions_entry', ['entryId', 'version'], { unique: true })
export class KbVersionRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'entry_id', type: 'varchar', length: 36 }) entryId: string;
  @Column({ type: 'integer' }) version: number;
  @JsonColumn({ name: 'content' }) content: KbContent;
  /** Unified line diff against the previous version. */
  @Column({ type: 'text' }) diff: string;
  @Column({ type: 'varchar', length: 32 }) action: 'created' | 'updated' | 'published' | 'unpublished' | 'imported' | 'variant_added' | 'archived';
  @Column({ name: 'author_id', type: 'varchar', length: 191, nullable: true }) authorId: string | null;
  @Column({ name: 'author_name', type: 'varchar', length: 200, nullable: true }) authorName: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
}

@Entity('kb_feedback')
@Index('ix_kb_feedback_entry', ['entryId', 'createdAt'])
export class KbFeedbackRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'entry_id', type: 'varchar', length: 36 }) entryId: string;
  @BoolColumn({ name: 'helpful' }) helpful: boolean;
  @Column({ type: 'varchar', length: 16 }) source: 'customer' | 'agent';
  @Column({ name: 'actor_id', type: 'varchar', length: 191, nullable: true }) actorId: string | null;
  @Column({ name: 'conversation_id', type: 'varchar', length: 36, nullable: true }) conversationId: string | null;
  /** Dedupes a customer's button press or a retried request. */
  @Column({ name: 'dedupe_key', type: 'varchar', length: 191, unique: true }) dedupeKey: string;
  @Column({ type: 'varchar', length: 1000, nullable: true }) comment: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
}

/** A customer question the bot could not answer (fallback, low confidence, hand-over). */
@Entity('kb_unanswered')
@Index('ix_kb_unanswered_open', ['kbId', 'proposalId', 'createdAt'])
@Index('ix_kb_unanswered_conversation', ['conversationId', 'answered'])
export class KbUnansweredRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'kb_id', type: 'varchar', length: 64 }) kbId: string;
  @Column({ name: 'message_id', type: 'varchar', length: 36, unique: true }) messageId: string;
  @Column({ name: 'conversation_id', type: 'varchar', length: 36 }) conversationId: string;
  @Column({ type: 'varchar', length: 1000 }) question: string;
  @Column({ type: 'varchar', length: 16, nullable: true }) language: string | null;
  @Column({ type: 'varchar', length: 32 }) reason: string;
  @Column({ name: 'best_entry_id', type: 'varchar', length: 36, nullable: true }) bestEntryId: string | null;
  @Column({ name: 'best_score', type: 'double', nullable: true }) bestScore: number | null;
  @Column({ name: 'proposal_id', type: 'varchar', length: 36, nullable: true }) proposalId: string | null;
  /** Set once an agent's answer to it was proposed (learning loop). */
  @BoolColumn({ name: 'answered' }) answered: boolean;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
}

/** A proposed change for an operator to approve: a new FAQ (mining, agent answer) or a new question variant. */
@Entity('kb_proposals')
@Index('ix_kb_proposals_status', ['kbId', 'status', 'createdAt'])
export class KbProposalRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'kb_id', type: 'varchar', length: 64 }) kbId: string;
  @Column({ type: 'varchar', length: 16 }) kind: 'new_faq' | 'new_variant';
  @Column({ type: 'varchar', length: 16 }) source: 'mining' | 'agent_answer';
  @Column({ type: 'varchar', length: 16 }) status: 'pending' | 'approved' | 'rejected';
  @JsonColumn({ name: 'questions' }) questions: string[];
  @Column({ type: 'text', nullable: true }) answer: string | null;
  @Column({ name: 'entry_id', type: 'varchar', length: 36, nullable: true }) entryId: string | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) language: string | null;
  @Column({ type: 'integer' }) occurrences: number;
  @JsonColumn({ name: 'conversation_ids' }) conversationIds: string[];
  /** Idempotency for the producer (agent message id, mining cluster key). */
  @Column({ name: 'dedupe_key', type: 'varchar', length: 191, unique: true }) dedupeKey: string;
  @Column({ name: 'decided_by', type: 'varchar', length: 191, nullable: true }) decidedBy: string | null;
  @TimestampColumn({ name: 'decided_at', nullable: true }) decidedAt: Date | null;
  @Column({ name: 'result_entry_id', type: 'varchar', length: 36, nullable: true }) resultEntryId: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
}

export const KNOWLEDGE_ENTITIES = [KbEntryRow, KbVersionRow, KbFeedbackRow, KbUnansweredRow, KbProposalRow];
