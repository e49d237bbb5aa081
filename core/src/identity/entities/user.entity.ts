import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BoolColumn, JsonColumn, TimestampColumn } from '../../platform/database/entity-columns.js';
import type { Role } from '../decorators/roles.decorator.js';

/** A person who signs in. Keyed by (issuer, subject); local accounts use issuer `local`. */
@Entity('identity_users')
export class UserRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 512 })
  issuer: string;

  @Column({ type: 'varchar', length: 255 })
  subject: string;

  /** SHA-256 of issuer + NUL + subject: the unique key (both together are too long to index on MySQL). */
  @Column({ name: 'subject_key', type: 'varchar', length: 64 })
  subjectKey: string;

  @Column({ name: 'display_name', type: 'varchar', length: 255, nullable: true })
  displayName: string | null;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email: string | null;

  /** Roles from the last login (IdP users) or assigned in Switchboard (local users). */
  @JsonColumn()
  roles: Role[];

  /** Team ids from the last login's group claim. */
  @JsonColumn({ name: 'idp_team_ids' })
  idpTeamIds: string[];

  @BoolColumn()
  active: boolean;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'last_login_at', nullable: true })
  lastLoginAt: Date | null;
}
