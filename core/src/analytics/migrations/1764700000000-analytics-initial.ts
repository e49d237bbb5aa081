import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class AnalyticsInitial1764700000000 implements MigrationInterface {
  name = 'AnalyticsInitial1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    const id = (name: string, extra = {}) => c.string(name, 64, { isNullable: true, ...extra });
    await queryRunner.createTable(
      new Table({
        name: 'analytics_conversations',
        columns: [
          c.string('conversation_id', 64, { isPrimary: true }),
          id('contact_id'),
          id('inbox_id'),
          id('channel'),
          id('team_id'),
          id('agent_id'),
          c.timestamp('created_at', { isNullable: true }),
          c.timestamp('first_inbound_at', { isNullable: true }),
          c.timestamp('first_response_at', { isNullable: true }),
          c.timestamp('awaiting_since', { isNullable: true }),
          c.timestamp('resolved_at', { isNullable: true }),
          c.int('resolved_count', { default: 0 }),
          c.int('reopen_count', { default: 0 }),
          c.bool('bot_replied', { default: false }),
          c.bool('handed_over', { default: false }),
          c.bool('csat_requested', { default: false }),
          c.int('csat_score', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'ix_analytics_conv_created', columnNames: ['created_at'] }),
          new TableIndex({ name: 'ix_analytics_conv_resolved', columnNames: ['resolved_at'] }),
          new TableIndex({ name: 'ix_analytics_conv_contact', columnNames: ['contact_id', 'created_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'analytics_responses',
        columns: [
          c.serialKey('id'),
          c.string('message_id', 64, { isUnique: true }),
          c.string('conversation_id', 64),
          id('agent_id'),
          id('team_id'),
          id('channel'),
          c.timestamp('waiting_since'),
          c.timestamp('responded_at'),
          c.bool('is_first', { default: false }),
        ],
        indices: [new TableIndex({ name: 'ix_analytics_resp_at', columnNames: ['responded_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'analytics_tickets',
        columns: [
          c.string('ticket_id', 64, { isPrimary: true }),
          id('team_id'),
          id('agent_id'),
          c.timestamp('created_at', { isNullable: true }),
          c.timestamp('solved_at', { isNullable: true }),
          c.bool('sla_breached', { default: false }),
          c.bool('has_sla', { default: false }),
        ],
        indices: [new TableIndex({ name: 'ix_analytics_ticket_solved', columnNames: ['solved_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['analytics_tickets', 'analytics_responses', 'analytics_conversations']) await queryRunner.dropTable(table);
  }
}
