import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class ConversationsInit1764200000020 implements MigrationInterface {
  name = 'ConversationsInit1764200000020';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'inboxes',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 200),
          c.string('channel', 64),
          c.uuid('team_id', { isNullable: true }),
          c.text('settings'),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'conversations',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('contact_id'),
          c.uuid('inbox_id'),
          c.string('channel', 64),
          c.string('status', 16),
          c.timestamp('snoozed_until', { isNullable: true }),
          c.string('priority', 16),
          c.string('assignee_id', 191, { isNullable: true }),
          c.uuid('team_id', { isNullable: true }),
          c.text('tags'),
          c.string('thread_key', 191, { isNullable: true }),
          c.string('open_key', 64, { isNullable: true }),
          c.bigint('last_seq', { default: 0 }),
          c.timestamp('last_message_at', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
          c.timestamp('resolved_at', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'ix_conversations_team_status', columnNames: ['team_id', 'status', 'updated_at'] }),
          new TableIndex({ name: 'ix_conversations_status_updated', columnNames: ['status', 'updated_at'] }),
          new TableIndex({ name: 'ix_conversations_contact', columnNames: ['contact_id', 'created_at'] }),
          new TableIndex({ name: 'ix_conversations_assignee', columnNames: ['assignee_id', 'status'] }),
          new TableIndex({ name: 'ix_conversations_inbox', columnNames: ['inbox_id', 'created_at'] }),
          new TableIndex({ name: 'ux_conversations_open_key', columnNames: ['open_key'], isUnique: true }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'messages',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('conversation_id'),
          c.bigint('seq'),
          c.string('direction', 3),
          c.string('author_type', 16),
          c.string('author_id', 191, { isNullable: true }),
          c.text('text'),
          c.text('content', { isNullable: true }),
          c.text('attachments', { isNullable: true }),
          c.bool('private', { default: 0 }),
          c.string('idempotency_key', 191, { isNullable: true }),
          c.string('inbound_key', 64, { isNullable: true }),
          c.string('external_message_id', 191, { isNullable: true }),
          c.string('language', 16, { isNullable: true }),
          c.string('intent', 128, { isNullable: true }),
          c.double('intent_confidence', { isNullable: true }),
          c.string('emotion', 32, { isNullable: true }),
          c.text('flags', { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'ux_messages_conversation_seq', columnNames: ['conversation_id', 'seq'], isUnique: true }),
          new TableIndex({ name: 'ux_messages_conversation_idem', columnNames: ['conversation_id', 'idempotency_key'], isUnique: true }),
          new TableIndex({ name: 'ux_messages_inbound_key', columnNames: ['inbound_key'], isUnique: true }),
          new TableIndex({ name: 'ix_messages_created', columnNames: ['created_at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['messages', 'conversations', 'inboxes']) await queryRunner.dropTable(table);
  }
}
