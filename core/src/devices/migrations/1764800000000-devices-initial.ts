import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class DevicesInitial1764800000000 implements MigrationInterface {
  name = 'DevicesInitial1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    const optional = (name: string, length: number) => c.string(name, length, { isNullable: true });
    await queryRunner.createTable(
      new Table({
        name: 'devices',
        columns: [
          c.string('id', 64, { isPrimary: true }),
          c.string('name', 200),
          optional('model', 120),
          optional('serial_number', 120),
          optional('firmware', 64),
          optional('site', 120),
          optional('location', 200),
          optional('owner_contact_id', 64),
          optional('owner_organization', 200),
          optional('team_id', 64),
          optional('protocol_plugin', 64),
          c.text('connection_config', { isNullable: true }),
          c.text('tags'),
          c.string('state', 16),
          c.timestamp('last_seen_at', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'ix_devices_owner', columnNames: ['owner_contact_id'] }),
          new TableIndex({ name: 'ix_devices_model', columnNames: ['model'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'device_readings',
        columns: [
          c.serialKey('id'),
          c.string('device_id', 64),
          c.string('metric', 120),
          c.double('value_num', { isNullable: true }),
          optional('value_text', 500),
          c.timestamp('ts'),
          c.string('quality', 16),
        ],
        indices: [
          new TableIndex({ name: 'ix_readings_device_metric_ts', columnNames: ['device_id', 'metric', 'ts'] }),
          new TableIndex({ name: 'ix_readings_ts', columnNames: ['ts'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'device_rules',
        columns: [
          c.string('id', 36, { isPrimary: true }),
          c.string('name', 200),
          optional('scope_model', 120),
          optional('scope_tag', 64),
          c.string('kind', 24),
          optional('metric', 120),
          c.text('params'),
          c.int('debounce_samples', { default: 1 }),
          c.int('debounce_ms', { default: 0 }),
          c.int('clear_samples', { default: 1 }),
          c.string('severity', 16),
          c.string('title', 200),
          optional('article_id', 64),
          c.bool('auto_resolve', { default: true }),
          c.bool('enabled', { default: true }),
          c.timestamp('created_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'device_rule_states',
        columns: [
          c.string('device_id', 64, { isPrimary: true }),
          c.string('rule_id', 36, { isPrimary: true }),
          c.int('violations', { default: 0 }),
          c.int('clears', { default: 0 }),
          c.timestamp('violating_since', { isNullable: true }),
          c.double('last_num', { isNullable: true }),
          c.timestamp('last_ts', { isNullable: true }),
          optional('active_code', 120),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'fault_episodes',
        columns: [
          c.string('id', 36, { isPrimary: true }),
          c.string('device_id', 64),
          c.string('rule_id', 36),
          optional('open_slot', 8),
          c.string('status', 8),
          c.string('severity', 16),
          c.string('title', 200),
          optional('code', 120),
          c.timestamp('opened_at'),
          c.timestamp('closed_at', { isNullable: true }),
          optional('ticket_id', 64),
          c.int('occurrences', { default: 1 }),
          c.int('flaps', { default: 0 }),
          c.text('snapshot'),
          c.text('latest'),
          c.bool('owner_notified', { default: false }),
        ],
        indices: [
          new TableIndex({ name: 'ux_episode_open', columnNames: ['device_id', 'rule_id', 'open_slot'], isUnique: true }),
          new TableIndex({ name: 'ix_episode_device', columnNames: ['device_id', 'opened_at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['fault_episodes', 'device_rule_states', 'device_rules', 'device_readings', 'devices']) await queryRunner.dropTable(table);
  }
}
