import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class KnowledgeInitial1764900000010 implements MigrationInterface {
  name = 'KnowledgeInitial1764900000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'kb_entries',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('kb_id', 64),
          c.string('kind', 16),
          c.string('title', 300),
          c.text('questions'),
          c.text('answer'),
          c.string('language', 16, { isNullable: true }),
          c.text('tags'),
          c.string('audience', 16),
          c.string('status', 16),
          c.string('team_id', 64, { isNullable: true }),
          c.int('version'),
          c.int('published_version', { isNullable: true }),
          c.text('live', { isNullable: true }),
          c.int('helpful'),
          c.int('not_helpful'),
          c.string('created_by', 191, { isNullable: true }),
          c.string('updated_by', 191, { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
          c.timestamp('published_at', { isNullable: true }),
        ],
        indices: [new TableIndex({ name: 'ix_kb_entries_kb', columnNames: ['kb_id', 'status'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'kb_versions',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('entry_id'),
          c.int('version'),
          c.text('content'),
          c.text('diff'),
          c.string('action', 32),
          c.string('author_id', 191, { isNullable: true }),
          c.string('author_name', 200, { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ux_kb_versions_entry', columnNames: ['entry_id', 'version'], isUnique: true })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'kb_feedback',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('entry_id'),
          c.bool('helpful'),
          c.string('source', 16),
          c.string('actor_id', 191, { isNullable: true }),
          c.uuid('conversation_id', { isNullable: true }),
          c.string('dedupe_key', 191, { isUnique: true }),
          c.string('comment', 1000, { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_kb_feedback_entry', columnNames: ['entry_id', 'created_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'kb_unanswered',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('kb_id', 64),
          c.uuid('message_id', { isUnique: true }),
          c.uuid('conversation_id'),
          c.string('question', 1000),
          c.string('language', 16, { isNullable: true }),
          c.string('reason', 32),
          c.uuid('best_entry_id', { isNullable: true }),
          c.double('best_score', { isNullable: true }),
          c.uuid('proposal_id', { isNullable: true }),
          c.bool('answered'),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_kb_unanswered_open', columnNames: ['kb_id', 'proposal_id', 'created_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'kb_proposals',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('kb_id', 64),
          c.string('kind', 16),
          c.string('source', 16),
          c.string('status', 16),
          c.text('questions'),
          c.text('answer', { isNullable: true }),
          c.uuid('entry_id', { isNullable: true }),
          c.string('language', 16, { isNullable: true }),
          c.int('occurrences'),
          c.text('conversation_ids'),
          c.string('dedupe_key', 191, { isUnique: true }),
          c.string('decided_by', 191, { isNullable: true }),
          c.timestamp('decided_at', { isNullable: true }),
          c.uuid('result_entry_id', { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_kb_proposals_status', columnNames: ['kb_id', 'status', 'created_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['kb_proposals', 'kb_unanswered', 'kb_feedback', 'kb_versions', 'kb_entries']) await queryRunner.dropTable(table);
  }
}
