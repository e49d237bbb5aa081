import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class AssistInitial1764900000030 implements MigrationInterface {
  name = 'AssistInitial1764900000030';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'assist_feedback',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('conversation_id'),
          c.string('agent_id', 191),
          c.string('suggestion_key', 100),
          c.string('action', 16),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_assist_feedback_key', columnNames: ['suggestion_key'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('assist_feedback');
  }
}
