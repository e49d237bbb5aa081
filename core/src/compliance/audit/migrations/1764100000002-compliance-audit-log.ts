import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../../platform/database/portable-columns.js';
import { GENESIS_HASH } from '../audit-chain.js';

export class Audit1764100000002 implements MigrationInterface {
  name = 'Audit1764100000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          c.bigint('seq', { isPrimary: true }),
          c.timestamp('at'),
          c.string('actor_kind', 16),
          c.string('actor_id', 191, { isNullable: true }),
          c.string('action', 128),
          c.string('object_type', 64, { isNullable: true }),
          c.string('object_id', 191, { isNullable: true }),
          c.string('outcome', 16),
          c.string('ip', 64, { isNullable: true }),
          c.text('details', { isNullable: true }),
          c.string('prev_hash', 64),
          c.string('hash', 64),
        ],
        indices: [
          new TableIndex({ name: 'ix_audit_at', columnNames: ['at'] }),
          new TableIndex({ name: 'ix_audit_action', columnNames: ['action', 'at'] }),
          new TableIndex({ name: 'ix_audit_actor', columnNames: ['actor_id', 'at'] }),
          new TableIndex({ name: 'ix_audit_object', columnNames: ['object_type', 'object_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({ name: 'audit_head', columns: [c.int('id', { isPrimary: true }), c.bigint('last_seq'), c.string('last_hash', 64)] }),
    );
    await queryRunner.query('INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, ?)', [GENESIS_HASH]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_head');
    await queryRunner.dropTable('audit_log');
  }
}
