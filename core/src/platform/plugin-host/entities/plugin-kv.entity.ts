import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../../database/entity-columns.js';

/** `ctx.kv`: a small key/value store per plugin instance. */
@Entity('plugin_kv')
export class PluginKvRow {
  @PrimaryColumn({ name: 'instance_id', type: 'varchar', length: 64 })
  instanceId: string;

  @PrimaryColumn({ name: 'kv_key', type: 'varchar', length: 191 })
  key: string;

  /** JSON text. */
  @Column({ name: 'value', type: 'text' })
  value: string;

  @TimestampColumn({ name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
