import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class CsatInitial1764300000030 implements MigrationInterface {
  name = 'CsatInitial1764300000030';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'csat_surveys',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('token_hash', 64, { isUnique: true }),
          c.string('send_token', 64, { isNullable: true }),
          c.string('subject_type', 16),
          c.uuid('subject_id'),
          c.int('round'),
          c.uuid('conversation_id', { isNullable: true }),
          c.uuid('contact_id', { isNullable: true }),
          c.uuid('team_id', { isNullable: true }),
          c.string('agent_id', 191, { isNullable: true }),
          c.string('status', 16),
          c.int('rating', { isNullable: true }),
          c.text('comment', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('sent_at', { isNullable: true }),
          c.timestamp('expires_at'),
          c.timestamp('answered_at', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'ux_csat_subject', columnNames: ['subject_type', 'subject_id', 'round'], isUnique: true }),
          new TableIndex({ name: 'ix_csat_status', columnNames: ['status', 'created_at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('csat_surveys');
  }
}
