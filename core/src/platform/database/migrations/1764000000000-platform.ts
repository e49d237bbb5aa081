import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../portable-columns.js';

export class Platform1764000000000 implements MigrationInterface {
  name = 'Platform1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'outbox',
        columns: [
          c.serialKey('seq'),
          c.string('event_id', 36, { isUnique: true }),
          c.string('subject', 256),
          c.text('envelope'),
          c.text('headers', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('sent_at', { isNullable: true }),
          c.int('attempts', { default: 0 }),
          c.string('last_error', 500, { isNullable: true }),
        ],
        indices: [new TableIndex({ name: 'ix_outbox_pending', columnNames: ['sent_at', 'seq'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'processed_events',
        columns: [c.string('consumer', 128, { isPrimary: true }), c.string('event_id', 128, { isPrimary: true }), c.timestamp('processed_at')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'scheduler_jobs',
        columns: [
          c.string('name', 128, { isPrimary: true }),
          c.int('interval_ms'),
          c.timestamp('next_run_at'),
          c.string('locked_by', 128, { isNullable: true }),
          c.timestamp('locked_until', { isNullable: true }),
          c.timestamp('last_run_at', { isNullable: true }),
          c.string('last_outcome', 500, { isNullable: true }),
          c.int('run_count', { default: 0 }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'scheduler_timers',
        columns: [
          c.serialKey('id'),
          c.string('timer_key', 191, { isUnique: true }),
          c.string('kind', 64),
          c.timestamp('due_at'),
          c.text('payload', { isNullable: true }),
          c.string('claimed_by', 128, { isNullable: true }),
          c.timestamp('claimed_until', { isNullable: true }),
          c.timestamp('fired_at', { isNullable: true }),
          c.int('attempts', { default: 0 }),
          c.string('last_error', 500, { isNullable: true }),
        ],
        indices: [new TableIndex({ name: 'ix_timers_due', columnNames: ['fired_at', 'due_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'settings',
        columns: [
          c.string('key', 128, { isPrimary: true }),
          c.text('value'),
          c.int('version'),
          c.timestamp('updated_at'),
          c.string('updated_by', 191, { isNullable: true }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['settings', 'scheduler_timers', 'scheduler_jobs', 'processed_events', 'outbox']) await queryRunner.dropTable(table);
  }
}
