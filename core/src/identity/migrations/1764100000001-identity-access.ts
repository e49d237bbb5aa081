import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class Identity1764100000001 implements MigrationInterface {
  name = 'Identity1764100000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'identity_users',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('issuer', 512),
          c.string('subject', 255),
          c.string('subject_key', 64, { isUnique: true }),
          c.string('display_name', 255, { isNullable: true }),
          c.string('email', 320, { isNullable: true }),
          c.text('roles'),
          c.text('idp_team_ids'),
          c.bool('active'),
          c.timestamp('created_at'),
          c.timestamp('last_login_at', { isNullable: true }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'identity_teams',
        columns: [
          c.string('id', 64, { isPrimary: true }),
          c.string('name', 255),
          c.string('external_group', 255, { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_identity_teams_group', columnNames: ['external_group'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'identity_team_members',
        columns: [c.string('team_id', 64, { isPrimary: true }), c.uuid('user_id', { isPrimary: true }), c.timestamp('added_at')],
        indices: [new TableIndex({ name: 'ix_identity_team_members_user', columnNames: ['user_id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'identity_api_keys',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 255),
          c.string('prefix', 32, { isUnique: true }),
          c.string('secret_hash', 128),
          c.text('scopes'),
          c.string('team_id', 64, { isNullable: true }),
          c.string('created_by', 191),
          c.timestamp('created_at'),
          c.timestamp('expires_at', { isNullable: true }),
          c.timestamp('revoked_at', { isNullable: true }),
          c.timestamp('last_used_at', { isNullable: true }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'identity_sessions',
        columns: [
          c.string('id_hash', 64, { isPrimary: true }),
          c.uuid('public_id'),
          c.uuid('user_id'),
          c.string('method', 16),
          c.string('sid', 255, { isNullable: true }),
          c.string('csrf_token', 64),
          c.text('id_token', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('expires_at'),
        ],
        indices: [
          new TableIndex({ name: 'ix_identity_sessions_sid', columnNames: ['sid'] }),
          new TableIndex({ name: 'ix_identity_sessions_user', columnNames: ['user_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'identity_login_states',
        columns: [
          c.string('state', 64, { isPrimary: true }),
          c.string('code_verifier', 128),
          c.string('nonce', 64),
          c.string('return_to', 1024, { isNullable: true }),
          c.timestamp('expires_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'identity_local_credentials',
        columns: [c.string('username', 191, { isPrimary: true }), c.uuid('user_id'), c.string('password_hash', 255), c.timestamp('updated_at')],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'identity_local_credentials',
      'identity_login_states',
      'identity_sessions',
      'identity_api_keys',
      'identity_team_members',
      'identity_teams',
      'identity_users',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
