import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysql } from '../portable-columns.js';

/**
 * Stable event ids such as `settings:<key>:<version>` are longer than a UUID: widen
 * `outbox.event_id` from 36 to 128 characters (the width of `processed_events.event_id`).
 * SQLite does not enforce varchar lengths, so only MySQL/MariaDB change.
 */
export class PlatformOutboxEventId1764000000100 implements MigrationInterface {
  name = 'PlatformOutboxEventId1764000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (isMysql(queryRunner)) await queryRunner.query('ALTER TABLE outbox MODIFY event_id VARCHAR(128) NOT NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (isMysql(queryRunner)) await queryRunner.query('ALTER TABLE outbox MODIFY event_id VARCHAR(36) NOT NULL');
  }
}
