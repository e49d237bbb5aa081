import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../database/portable-columns.js';

export class PluginHost1764600000001 implements MigrationInterface {
  name = 'PluginHost1764600000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'plugin_instances',
        columns: [
          c.string('id', 64, { isPrimary: true }),
          c.string('plugin_id', 32),
          c.string('inbox_id', 64, { isNullable: true }),
          c.bool('enabled'),
          c.text('config'),
          c.int('type_version'),
          c.text('delivery', { isNullable: true }),
          c.string('disabled_reason', 32, { isNullable: true }),
          c.string('last_error', 1000, { isNullable: true }),
          c.timestamp('last_error_at', { isNullable: true }),
          c.int('version'),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
        indices: [new TableIndex({ name: 'ix_plugin_instances_plugin', columnNames: ['plugin_id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'plugin_kv',
        columns: [
          c.string('instance_id', 64, { isPrimary: true }),
          c.string('kv_key', 191, { isPrimary: true }),
          c.text('value'),
          c.timestamp('expires_at', { isNullable: true }),
          c.timestamp('updated_at'),
        ],
        indices: [new TableIndex({ name: 'ix_plugin_kv_expiry', columnNames: ['expires_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'plugin_deliveries',
        columns: [
          c.serialKey('id'),
          c.string('instance_id', 64),
          c.string('message_id', 64),
          c.string('conversation_id', 64),
          c.string('status', 16),
          c.int('attempts'),
          c.string('external_id', 255, { isNullable: true }),
          c.string('last_error', 1000, { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'ux_plugin_deliveries', columnNames: ['instance_id', 'message_id'], isUnique: true }),
          new TableIndex({ name: 'ix_plugin_deliveries_status', columnNames: ['status', 'updated_at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['plugin_deliveries', 'plugin_kv', 'plugin_instances']) await queryRunner.dropTable(table);
  }
}
