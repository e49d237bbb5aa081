import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../../platform/database/entity-columns.js';

@Entity('csat_surveys')
@Index('ux_csat_subject', ['subjectType', 'subjectId', 'round'], { unique: true })
@Index('ix_csat_status', ['status', 'createdAt'])
export class CsatSurveyRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  /** SHA-256 of the answer token; the token itself is only ever sent to the customer. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64, unique: true }) tokenHash: string;
  /** The raw token until the survey is delivered, then cleared. */
  @Column({ name: 'send_token', type: 'varchar', length: 64, nullable: true }) sendToken: string | null;
  @Column({ name: 'subject_type', type: 'varchar', length: 16 }) subjectType: 'ticket' | 'conversation';
  @Column({ name: 'subject_id', type: 'varchar', length: 36 }) subjectId: string;
  /** Solving the same ticket/conversation again starts a new round. */
  @Column({ type: 'integer' }) round: number;
  @Column({ name: 'conversation_id', type: 'varchar', length: 36, nullable: true }) conversationId: string | null;
  @Column({ name: 'contact_id', type: 'varchar', length: 36, nullable: true }) contactId: string | null;
  @Column({ name: 'team_id', type: 'varchar', length: 36, nullable: true }) teamId: string | null;
  @Column({ name: 'agent_id', type: 'varchar', length: 191, nullable: true }) agentId: string | null;
  @Column({ type: 'varchar', length: 16 }) status: 'pending' | 'sent' | 'answered';
  @Column({ type: 'integer', nullable: true }) rating: number | null;
  @Column({ type: 'text', nullable: true }) comment: string | null;
  @TimestampColumn({ name: 'created_at' }) createdAt: Date;
  @TimestampColumn({ name: 'sent_at', nullable: true }) sentAt: Date | null;
  @TimestampColumn({ name: 'expires_at' }) expiresAt: Date;
  @TimestampColumn({ name: 'answered_at', nullable: true }) answeredAt: Date | null;
}
