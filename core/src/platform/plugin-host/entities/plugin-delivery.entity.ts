import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from '../../database/entity-columns.js';

/** The outbound delivery log: one row per (instance, message), updated on every attempt. */
@Entity('plugin_deliveries')
@Index('ux_plugin_deliveries', ['instanceId', 'messageId'], { unique: true })
export class PluginDeliveryRow {
  @PrimaryGeneratedColumn({ name: 'id' })
  id: number;

  @Column({ name: 'instance_id', type: 'varchar', length: 64 })
  instanceId: string;

  @Column({ name: 'message_id', type: 'varchar', length: 64 })
  messageId: string;

  @Column({ name: 'conversation_id', type: 'varchar', length: 64 })
  conversationId: string;

  /** `pending` (retrying), `delivered` or `dead_letter`. */
  @Column({ type: 'varchar', length: 16 })
  status: 'pending' | 'delivered' | 'dead_letter';

  @Column({ type: 'integer' })
  attempts: number;

  @Column({ name: 'external_id', type: 'varchar', length: 255, nullable: true })
  externalId: string | null;

  @Column({ name: 'last_error', type: 'varchar', length: 1000, nullable: true })
  lastError: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
