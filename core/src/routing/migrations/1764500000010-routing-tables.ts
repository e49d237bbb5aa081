import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class RoutingTables1764500000010 implements MigrationInterface {
  name = 'RoutingTables1764500000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'routing_agents',
        columns: [
          c.string('agent_id', 191, { isPrimary: true }),
          c.text('team_ids'),
          c.text('skills'),
          c.text('languages'),
          c.int('max_concurrent'),
          c.text('channel_weights'),
          c.string('status', 16),
          c.string('desired_status', 16),
          c.string('status_reason', 16),
          c.timestamp('status_changed_at'),
          c.timestamp('last_seen_at', { isNullable: true }),
          c.int('load_units', { default: 0 }),
          c.int('active_count', { default: 0 }),
          c.timestamp('last_assigned_at', { isNullable: true }),
          c.bigint('assign_counter', { default: 0 }),
          c.timestamp('updated_at'),
        ],
        indices: [new TableIndex({ name: 'ix_routing_agents_status', columnNames: ['status', 'last_seen_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'routing_items',
        columns: [
          c.string('conversation_id', 64, { isPrimary: true }),
          c.string('team_id', 64, { isNullable: true }),
          c.string('inbox_id', 64, { isNullable: true }),
          c.string('channel', 64),
          c.string('contact_id', 64, { isNullable: true }),
          c.string('state', 16),
          c.string('agent_id', 191, { isNullable: true }),
          c.int('claimed_units', { default: 0 }),
          c.string('priority', 16),
          c.bool('vip', { default: 0 }),
          c.string('emotion', 32, { isNullable: true }),
          c.text('required_skills'),
          c.string('language', 16, { isNullable: true }),
          c.double('base_score'),
          c.double('rank'),
          c.timestamp('enqueued_at'),
          c.timestamp('assigned_at', { isNullable: true }),
          c.string('preferred_agent_id', 191, { isNullable: true }),
          c.int('version', { default: 0 }),
          c.bool('sync_pending', { default: 0 }),
          c.int('assignment_count', { default: 0 }),
          c.timestamp('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'ix_routing_items_queue', columnNames: ['state', 'team_id', 'rank'] }),
          new TableIndex({ name: 'ix_routing_items_agent', columnNames: ['agent_id', 'state'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'routing_affinity',
        columns: [c.string('contact_id', 64, { isPrimary: true }), c.string('agent_id', 191), c.timestamp('updated_at')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'routing_assignments',
        columns: [
          c.serialKey('id'),
          c.string('conversation_id', 64),
          c.string('agent_id', 191, { isNullable: true }),
          c.string('team_id', 64, { isNullable: true }),
          c.string('kind', 32),
          c.string('actor_id', 191, { isNullable: true }),
          c.string('note', 1000, { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_routing_assignments_conversation', columnNames: ['conversation_id', 'id'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['routing_assignments', 'routing_affinity', 'routing_items', 'routing_agents']) await queryRunner.dropTable(table);
  }
}
