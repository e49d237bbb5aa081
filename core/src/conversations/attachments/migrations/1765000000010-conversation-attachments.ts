import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../../platform/database/portable-columns.js';

export class ConversationAttachments1765000000010 implements MigrationInterface {
  name = 'ConversationAttachments1765000000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'conversation_attachments',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('conversation_id', { isNullable: true }),
          c.uuid('message_id', { isNullable: true }),
          c.string('uploader_type', 16),
          c.string('uploader_id', 191, { isNullable: true }),
          c.text('name'),
          c.string('content_type', 127),
          c.bigint('size'),
          c.string('sha256', 64),
          c.string('storage_key', 191),
          c.timestamp('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'ix_conversation_attachments_conversation', columnNames: ['conversation_id', 'created_at'] }),
          new TableIndex({ name: 'ix_conversation_attachments_message', columnNames: ['message_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('conversation_attachments');
  }
}
