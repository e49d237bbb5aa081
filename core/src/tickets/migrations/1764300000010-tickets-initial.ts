import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

/** Tickets, their links, followers, comments, history, custom-field schema and SLA tables. */
export class TicketsInitial1764300000010 implements MigrationInterface {
  name = 'TicketsInitial1764300000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'tickets',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.int('number', { isUnique: true }),
          c.string('subject', 500),
          c.text('description'),
          c.string('type', 32),
          c.string('status', 16),
          c.string('priority', 16),
          c.uuid('requester_contact_id', { isNullable: true }),
          c.string('assignee_id', 191, { isNullable: true }),
          c.uuid('team_id', { isNullable: true }),
          c.text('tags'),
          c.text('custom_fields'),
          c.uuid('sla_policy_id', { isNullable: true }),
          c.string('created_by', 191, { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
          c.timestamp('solved_at', { isNullable: true }),
          c.timestamp('closed_at', { isNullable: true }),
          c.timestamp('first_responded_at', { isNullable: true }),
          c.int('version', { default: 1 }),
        ],
        indices: [
          new TableIndex({ name: 'ix_tickets_team_status_updated', columnNames: ['team_id', 'status', 'updated_at'] }),
          new TableIndex({ name: 'ix_tickets_status_updated', columnNames: ['status', 'updated_at'] }),
          new TableIndex({ name: 'ix_tickets_assignee_status_updated', columnNames: ['assignee_id', 'status', 'updated_at'] }),
          new TableIndex({ name: 'ix_tickets_requester_created', columnNames: ['requester_contact_id', 'created_at'] }),
          new TableIndex({ name: 'ix_tickets_updated', columnNames: ['updated_at'] }),
          new TableIndex({ name: 'ix_tickets_created', columnNames: ['created_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(new Table({ name: 'ticket_counters', columns: [c.string('name', 32, { isPrimary: true }), c.int('next_value')] }));
    await queryRunner.query(`INSERT INTO ticket_counters (name, next_value) VALUES ('ticket', 1000)`);
    await queryRunner.createTable(
      new Table({
        name: 'ticket_links',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('ticket_id'),
          c.string('kind', 32),
          c.string('ref_id', 191),
          c.string('created_by', 191, { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'ux_ticket_links', columnNames: ['ticket_id', 'kind', 'ref_id'], isUnique: true }),
          new TableIndex({ name: 'ix_ticket_links_ref', columnNames: ['kind', 'ref_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'ticket_followers',
        columns: [c.uuid('ticket_id', { isPrimary: true }), c.string('user_id', 191, { isPrimary: true }), c.timestamp('created_at')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'ticket_comments',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('ticket_id'),
          c.bool('is_private'),
          c.text('body'),
          c.string('author_type', 16),
          c.string('author_id', 191, { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_ticket_comments_ticket', columnNames: ['ticket_id', 'created_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'ticket_history',
        columns: [
          c.serialKey('id'),
          c.uuid('ticket_id'),
          c.string('action', 64),
          c.string('actor_type', 16),
          c.string('actor_id', 191, { isNullable: true }),
          c.text('details', { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_ticket_history_ticket', columnNames: ['ticket_id', 'id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'ticket_fields',
        columns: [
          c.string('key', 64, { isPrimary: true }),
          c.string('label', 200),
          c.string('type', 16),
          c.text('options', { isNullable: true }),
          c.bool('required'),
          c.bool('active'),
          c.timestamp('created_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'sla_calendars',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 200),
          c.string('time_zone', 64),
          c.text('hours'),
          c.text('holidays'),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'sla_policies',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 200),
          c.int('position'),
          c.bool('enabled'),
          c.text('conditions'),
          c.text('targets'),
          c.int('warning_minutes'),
          c.uuid('calendar_id', { isNullable: true }),
          c.text('escalation'),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'ticket_sla_clocks',
        columns: [
          c.uuid('ticket_id', { isPrimary: true }),
          c.string('metric', 32, { isPrimary: true }),
          c.uuid('policy_id'),
          c.bigint('target_ms'),
          c.bigint('consumed_ms'),
          c.string('state', 16),
          c.timestamp('running_since', { isNullable: true }),
          c.timestamp('due_at', { isNullable: true }),
          c.timestamp('warned_at', { isNullable: true }),
          c.timestamp('breached_at', { isNullable: true }),
          c.timestamp('achieved_at', { isNullable: true }),
          c.timestamp('started_at'),
          c.timestamp('updated_at'),
        ],
        indices: [new TableIndex({ name: 'ix_ticket_sla_breached', columnNames: ['breached_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'ticket_sla_clocks',
      'sla_policies',
      'sla_calendars',
      'ticket_fields',
      'ticket_history',
      'ticket_comments',
      'ticket_followers',
      'ticket_links',
      'ticket_counters',
      'tickets',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
