import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portable } from '../../platform/database/portable-columns.js';

/**
 * Ticket list at issue size (100,000 tickets, see docs/benchmarks.md): indexes for the filters
 * that had none (priority, type + status). Each keeps the list's order (`updated_at, id`, the
 * keyset tie-break, so no filesort) and ends in `team_id` so an agent's team scope can be
 * checked on the index entry before the row is read, and a `ticket_tags` side table so `?tag=`
 * no longer scans every ticket's JSON. The JSON column stays the source of truth for reads;
 * `ticket_tags` mirrors it on every write (TicketsService) and is backfilled here.
 */
export class TicketsListIndexes1765100000010 implements MigrationInterface {
  name = 'TicketsListIndexes1765100000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portable(queryRunner);
    await queryRunner.createIndex('tickets', new TableIndex({ name: 'ix_tickets_priority_updated', columnNames: ['priority', 'updated_at', 'id', 'team_id'] }));
    await queryRunner.createIndex('tickets', new TableIndex({ name: 'ix_tickets_priority_number', columnNames: ['priority', 'number', 'team_id'] }));
    await queryRunner.createIndex(
      'tickets',
      new TableIndex({ name: 'ix_tickets_type_status_updated', columnNames: ['type', 'status', 'updated_at', 'id', 'team_id'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'ticket_tags',
        columns: [c.uuid('ticket_id', { isPrimary: true }), c.string('tag', 191, { isPrimary: true })],
        indices: [new TableIndex({ name: 'ix_ticket_tags_tag', columnNames: ['tag', 'ticket_id'] })],
      }),
    );
    // Backfill in id order, 1,000 tickets at a time (portable SQL: `?` placeholders on both drivers).
    let after = '';
    for (;;) {
      const rows = (await queryRunner.query(`SELECT id, tags FROM tickets WHERE id > ? AND tags <> '[]' ORDER BY id LIMIT 1000`, [after])) as Array<{
        id: string;
        tags: string;
      }>;
      if (!rows.length) break;
      const pairs: string[] = [];
      const values: string[] = [];
      for (const row of rows) {
        let tags: unknown;
        try {
          tags = JSON.parse(row.tags);
        } catch {
          tags = [];
        }
        if (!Array.isArray(tags)) continue;
        for (const tag of new Set(tags.filter((t): t is string => typeof t === 'string' && t.length > 0 && t.length <= 191))) {
          pairs.push('(?, ?)');
          values.push(row.id, tag);
        }
      }
      if (pairs.length) await queryRunner.query(`INSERT INTO ticket_tags (ticket_id, tag) VALUES ${pairs.join(', ')}`, values);
      after = rows[rows.length - 1]!.id;
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('ticket_tags');
    await queryRunner.dropIndex('tickets', 'ix_tickets_type_status_updated');
    await queryRunner.dropIndex('tickets', 'ix_tickets_priority_number');
    await queryRunner.dropIndex('tickets', 'ix_tickets_priority_updated');
  }
}
