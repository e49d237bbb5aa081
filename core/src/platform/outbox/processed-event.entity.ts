import { Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../database/entity-columns.js';

/** One row per (consumer, event) handled: the key that makes consumers idempotent. */
@Entity('processed_events')
export class ProcessedEvent {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  consumer: string;

  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 128 })
  eventId: string;

  @TimestampColumn({ name: 'processed_at' })
  processedAt: Date;
}
