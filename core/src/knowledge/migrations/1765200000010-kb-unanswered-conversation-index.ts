import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Every public agent reply asks whether its conversation has unanswered questions the bot recorded
 * (the learning loop, `KnowledgeLearningConsumer`). Without this index that question scanned the whole
 * `kb_unanswered` table, which grows with every bot fallback.
 */
export class KbUnansweredConversationIndex1765200000010 implements MigrationInterface {
  name = 'KbUnansweredConversationIndex1765200000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex('kb_unanswered', new TableIndex({ name: 'ix_kb_unanswered_conversation', columnNames: ['conversation_id', 'answered'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('kb_unanswered', 'ix_kb_unanswered_conversation');
  }
}
