import { Column, Entity, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn, type Json } from '../../platform/database/entity-columns.js';

@Entity('settings')
export class SettingRow {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  key: string;

  @JsonColumn()
  value: Json;

  @Column({ type: 'integer' })
  version: number;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;

  @Column({ name: 'updated_by', type: 'varchar', length: 191, nullable: true })
  updatedBy: string | null;
}
