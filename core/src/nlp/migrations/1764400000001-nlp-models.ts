import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class NlpModels1764400000001 implements MigrationInterface {
  name = 'NlpModels1764400000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'nlp_models',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 128),
          c.string('version', 64),
          c.string('task', 32),
          c.string('status', 16),
          c.text('manifest'),
          c.string('sha256', 64),
          c.int('size_bytes'),
          c.string('previous_version', 64, { isNullable: true }),
          c.string('source_instance', 128),
          c.timestamp('created_at'),
          c.timestamp('activated_at', { isNullable: true }),
          c.string('created_by', 191, { isNullable: true }),
        ],
        indices: [new TableIndex({ name: 'ux_nlp_models_name_version', columnNames: ['name', 'version'], isUnique: true })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'nlp_training_jobs',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 128),
          c.string('task', 32),
          c.string('status', 16),
          c.text('progress', { isNullable: true }),
          c.text('metrics', { isNullable: true }),
          c.string('model_version', 64, { isNullable: true }),
          c.string('error', 500, { isNullable: true }),
          c.string('instance', 128),
          c.timestamp('created_at'),
          c.timestamp('finished_at', { isNullable: true }),
          c.string('created_by', 191, { isNullable: true }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('nlp_training_jobs');
    await queryRunner.dropTable('nlp_models');
  }
}
