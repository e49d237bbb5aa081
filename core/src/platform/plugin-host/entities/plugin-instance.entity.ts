import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BoolColumn, JsonColumn, TimestampColumn } from '../../database/entity-columns.js';

/** One configured instance of a plugin (e.g. the API channel serving inbox "acme"). */
@Entity('plugin_instances')
export class PluginInstanceRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ name: 'plugin_id', type: 'varchar', length: 32 })
  pluginId: string;

  @Column({ name: 'inbox_id', type: 'varchar', length: 64, nullable: true })
  inboxId: string | null;

  @BoolColumn()
  enabled: boolean;

  /** Config with every `x-secret` value replaced by `{ "$secret": "v1:..." }` (AES-256-GCM). */
  @JsonColumn({ name: 'config' })
  config: Record<string, unknown>;

  @Column({ name: 'type_version', type: 'integer' })
  typeVersion: number;

  /** Per-instance outbound delivery override `{ maxAttempts, backoffMs }`, or null for the manifest's. */
  @JsonColumn({ name: 'delivery', nullable: true })
  delivery: { maxAttempts: number; backoffMs: number[] } | null;

  /** `crash_loop` or `admin` when disabled; null otherwise. */
  @Column({ name: 'disabled_reason', type: 'varchar', length: 32, nullable: true })
  disabledReason: string | null;

  @Column({ name: 'last_error', type: 'varchar', length: 1000, nullable: true })
  lastError: string | null;

  @TimestampColumn({ name: 'last_error_at', nullable: true })
  lastErrorAt: Date | null;

  @Column({ type: 'integer' })
  version: number;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
