import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../../platform/database/entity-columns.js';

@Entity('identity_teams')
export class TeamRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  /** IdP group (last path segment) whose members belong to this team; null: assigned in Switchboard only. */
  @Column({ name: 'external_group', type: 'varchar', length: 255, nullable: true })
  externalGroup: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

@Entity('identity_team_members')
export class TeamMemberRow {
  @PrimaryColumn({ name: 'team_id', type: 'varchar', length: 64 })
  teamId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @TimestampColumn({ name: 'added_at' })
  addedAt: Date;
}
