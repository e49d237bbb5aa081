import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { JsonColumn, TimestampColumn, type Json } from '../database/entity-columns.js';

@Entity('outbox')
@Index('ix_outbox_pending', ['sentAt', 'seq'])
export class OutboxRow {
  @PrimaryGeneratedColumn({ name: 'seq' })
  seq: number;

  @Column({ name: 'event_id', type: 'varchar', length: 128, unique: true })
  eventId: string;

  @Column({ type: 'varchar', length: 256 })
  subject: string;

  @JsonColumn({ name: 'envelope' })
  envelope: EventEnvelope<Json>;

  @JsonColumn({ name: 'headers', nullable: true })
  headers: Record<string, string> | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'sent_at', nullable: true })
  sentAt: Date | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError: string | null;
}

/** What goes on the wire for every domain event. `id` doubles as the bus message id. */
export interface EventEnvelope<T> {
  id: string;
  subject: string;
  occurredAt: string;
  /** The core instance that committed it. */
  source: string;
  data: T;
}
