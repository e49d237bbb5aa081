import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class BotInitial1764900000020 implements MigrationInterface {
  name = 'BotInitial1764900000020';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'bot_configs',
        columns: [
          c.uuid('inbox_id', { isPrimary: true }),
          c.text('config'),
          c.int('version'),
          c.string('updated_by', 191, { isNullable: true }),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'bot_flows',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 100),
          c.int('version'),
          c.string('status', 16),
          c.string('format', 8),
          c.text('source'),
          c.text('definition'),
          c.string('created_by', 191, { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ux_bot_flows_version', columnNames: ['name', 'version'], isUnique: true })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'bot_sessions',
        columns: [
          c.uuid('conversation_id', { isPrimary: true }),
          c.uuid('inbox_id'),
          c.string('mode', 16),
          c.text('state'),
          c.int('version'),
          c.string('handover_reason', 32, { isNullable: true }),
          c.timestamp('handed_over_at', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'bot_turns',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('message_id', { isUnique: true }),
          c.uuid('conversation_id'),
          c.uuid('inbox_id'),
          c.string('intent', 100, { isNullable: true }),
          c.double('confidence', { isNullable: true }),
          c.string('action', 32),
          c.uuid('kb_entry_id', { isNullable: true }),
          c.double('kb_score', { isNullable: true }),
          c.string('language', 16, { isNullable: true }),
          c.string('emotion', 16, { isNullable: true }),
          c.string('flow_name', 100, { isNullable: true }),
          c.string('reason', 100, { isNullable: true }),
          c.string('label', 100, { isNullable: true }),
          c.double('latency_ms', { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'ix_bot_turns_conversation', columnNames: ['conversation_id', 'created_at'] }),
          new TableIndex({ name: 'ix_bot_turns_inbox', columnNames: ['inbox_id', 'created_at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['bot_turns', 'bot_sessions', 'bot_flows', 'bot_configs']) await queryRunner.dropTable(table);
  }
}
