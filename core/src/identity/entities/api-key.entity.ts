import { Column, Entity, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../../platform/database/entity-columns.js';

/** An integrator's key. Only a SHA-256 of the secret is stored; the key is shown once. */
@Entity('identity_api_keys')
export class ApiKeyRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  /** Public, non-secret part of the key (`sbk_<prefix>_…`), used to find the row. */
  @Column({ type: 'varchar', length: 32 })
  prefix: string;

  @Column({ name: 'secret_hash', type: 'varchar', length: 128 })
  secretHash: string;

  @JsonColumn()
  scopes: string[];

  /** Optional team the key is limited to (objects of other teams look absent). */
  @Column({ name: 'team_id', type: 'varchar', length: 64, nullable: true })
  teamId: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 191 })
  createdBy: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  @TimestampColumn({ name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @TimestampColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;
}
