import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

export class ContactsInit1764200000010 implements MigrationInterface {
  name = 'ContactsInit1764200000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'contacts',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.text('name_enc', { isNullable: true }),
          c.text('emails_enc', { isNullable: true }),
          c.text('phones_enc', { isNullable: true }),
          c.string('language', 16, { isNullable: true }),
          c.bool('vip', { default: 0 }),
          c.text('tags'),
          c.text('attributes'),
          c.uuid('team_id', { isNullable: true }),
          c.string('status', 16),
          c.uuid('merged_into_id', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'ix_contacts_status_created', columnNames: ['status', 'created_at', 'id'] }),
          new TableIndex({ name: 'ix_contacts_merged_into', columnNames: ['merged_into_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'contact_identities',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('contact_id'),
          c.string('channel', 64),
          c.text('external_id_enc'),
          c.string('external_id_hash', 64),
          c.bool('verified', { default: 0 }),
          c.timestamp('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'ux_contact_identities_channel_hash', columnNames: ['channel', 'external_id_hash'], isUnique: true }),
          new TableIndex({ name: 'ix_contact_identities_contact', columnNames: ['contact_id'] }),
          new TableIndex({ name: 'ix_contact_identities_hash', columnNames: ['external_id_hash'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'contact_lookups',
        columns: [c.serialKey('id'), c.uuid('contact_id'), c.string('kind', 16), c.string('hash', 64), c.bool('verified', { default: 0 })],
        indices: [
          new TableIndex({ name: 'ix_contact_lookups_kind_hash', columnNames: ['kind', 'hash'] }),
          new TableIndex({ name: 'ix_contact_lookups_contact', columnNames: ['contact_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'contact_merges',
        columns: [
          c.uuid('id', { isPrimary: true }),
          c.uuid('survivor_id'),
          c.uuid('merged_id'),
          c.string('actor_id', 191, { isNullable: true }),
          c.bool('automatic', { default: 0 }),
          c.string('reason', 64, { isNullable: true }),
          c.timestamp('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_contact_merges_survivor', columnNames: ['survivor_id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'contact_attribute_defs',
        columns: [
          c.string('key', 64, { isPrimary: true }),
          c.string('label', 200),
          c.string('type', 16),
          c.text('options', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['contact_attribute_defs', 'contact_merges', 'contact_lookups', 'contact_identities', 'contacts']) await queryRunner.dropTable(table);
  }
}
