import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class AutomationInitial1764300000020 implements MigrationInterface {
  name = 'AutomationInitial1764300000020';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'automation_rules',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 200),
          c.string('trigger_event', 64),
          c.text('conditions'),
          c.text('actions'),
          c.int('position'),
          c.bool('enabled'),
          c.bool('stop_processing'),
          c.uuid('team_id', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
        indices: [new TableIndex({ name: 'ix_automation_rules_trigger', columnNames: ['trigger_event', 'position'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'automation_macros',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 200),
          c.text('actions'),
          c.uuid('team_id', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'canned_responses',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('name', 200),
          c.string('shortcut', 64, { isNullable: true }),
          c.text('body'),
          c.uuid('team_id', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'automation_runs',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('rule_id'),
          c.string('object_type', 16),
          c.uuid('object_id'),
          c.string('event_id', 128),
          c.int('depth'),
          c.string('outcome', 32),
          c.string('detail', 500, { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_automation_runs_object', columnNames: ['object_type', 'object_id', 'created_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'automation_jobs',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.string('kind', 32),
          c.text('payload'),
          c.string('status', 16),
          c.int('attempts'),
          c.timestamp('next_attempt_at'),
          c.timestamp('claimed_until', { isNullable: true }),
          c.string('last_error', 500, { isNullable: true }),
          c.uuid('rule_id', { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_automation_jobs_due', columnNames: ['status', 'next_attempt_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['automation_jobs', 'automation_runs', 'canned_responses', 'automation_macros', 'automation_rules']) await queryRunner.dropTable(table);
  }
}
