import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class RealtimeSecrets1764500000020 implements MigrationInterface {
  name = 'RealtimeSecrets1764500000020';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({ name: 'realtime_secrets', columns: [c.string('name', 64, { isPrimary: true }), c.string('value', 128), c.timestamp('created_at')] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('realtime_secrets');
  }
}
