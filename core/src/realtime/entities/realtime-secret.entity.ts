import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../../platform/database/entity-columns.js';

/** Server secrets the gateway generates once per installation (e.g. the visitor-token key). */
@Entity('realtime_secrets')
export class RealtimeSecretRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 128 })
  value: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
