import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Column, CreateDateColumn, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { backends } from '../harness/test-app.js';
import type { DatabaseConfig } from '../../src/platform/config/app-config.js';
import { createDataSource } from '../../src/platform/database/data-source.factory.js';
import { BigIntColumn, BoolColumn, JsonColumn, TimestampColumn, type Json } from '../../src/platform/database/entity-columns.js';
import { RowInserter } from '../../src/platform/database/row-inserter.js';
import { RowReader } from '../../src/platform/database/row-reader.js';
import { RowUpdater } from '../../src/platform/database/row-updater.js';

/** A table with every column kind the entities use; it exists only in this test's own database. */
@Entity('row_inserter_probe')
class ProbeRow {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 200 }) label!: string;
  @Column({ type: 'int', default: 7 }) counted!: number;
  @JsonColumn({ nullable: true }) payload!: Json | null;
  @TimestampColumn({ name: 'due_at', nullable: true }) dueAt!: Date | null;
  @BoolColumn({ default: false }) flagged!: boolean;
  @BigIntColumn({ name: 'big_number', nullable: true }) bigNumber!: number | null;
  @CreateDateColumn({ name: 'created_at' }) createdAt!: Date;
}

const TEXT = '客服 🎧 "quoted" \'single\' \\ back';

describe.each(backends().map((backend) => [backend.name, backend] as const))('RowInserter on %s', (_name, backend) => {
  let dataSource: DataSource;
  const inserter = new RowInserter();

  beforeAll(async () => {
    const env = await backend.env();
    const config: DatabaseConfig = env.DATABASE_URL
      ? { kind: 'mysql', url: env.DATABASE_URL, poolSize: 4 }
      : { kind: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'sb-rowins-')), 'probe.sqlite') };
    // A test-only schema, so synchronize is acceptable here (the product only ever runs migrations).
    dataSource = createDataSource(config, { entities: [ProbeRow], migrations: [] });
    dataSource.setOptions({ synchronize: true });
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  it('stores every column kind exactly as TypeORM insert() does, and fills client-generated values', async () => {
    // Whole seconds: the synchronized test table's DATETIME has no fractional part on MariaDB.
    const due = new Date('2026-11-22T08:30:15.000Z');
    const ours: Partial<ProbeRow> = { label: `ours ${TEXT}`, payload: { text: TEXT, n: [1, 2] }, dueAt: due, flagged: true, bigNumber: 9_007_199_254_740 };
    await dataSource.transaction((manager) => inserter.insert(manager, ProbeRow, ours as ProbeRow));
    expect(ours.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ours.createdAt).toBeInstanceOf(Date);

    const theirs = await dataSource.manager.insert(ProbeRow, {
      label: `theirs ${TEXT}`,
      payload: { text: TEXT, n: [1, 2] },
      dueAt: due,
      flagged: true,
      bigNumber: 9_007_199_254_740,
    });
    const [mine, reference] = await Promise.all([
      dataSource.manager.findOneByOrFail(ProbeRow, { id: ours.id! }),
      dataSource.manager.findOneByOrFail(ProbeRow, { id: theirs.identifiers[0]!.id as string }),
    ]);
    const comparable = (row: ProbeRow) => ({ ...row, id: undefined, label: row.label.replace(/^\w+ /, ''), createdAt: undefined });
    expect(comparable(mine)).toEqual(comparable(reference));
    expect(mine.dueAt?.toISOString()).toBe(due.toISOString());
    expect(mine.payload).toEqual({ text: TEXT, n: [1, 2] });
    expect(mine.flagged).toBe(true);
    expect(mine.bigNumber).toBe(9_007_199_254_740);
    // Omitted columns keep their database default.
    expect(mine.counted).toBe(7);
  });

  it('writes many rows in few statements, groups rows by the columns they set, and keeps nulls', async () => {
    const rows: Array<Partial<ProbeRow>> = Array.from({ length: 2_500 }, (_, index) =>
      index % 2 === 0 ? { label: `batch-${index}`, counted: index } : { label: `batch-${index}`, payload: null, flagged: false },
    );
    const statements: string[] = [];
    await dataSource.transaction(async (manager) => {
      const query = manager.query.bind(manager);
      manager.query = ((sql: string, parameters?: unknown[]) => {
        statements.push(sql);
        return query(sql, parameters);
      }) as typeof manager.query;
      await inserter.insert(manager, ProbeRow, rows as ProbeRow[]);
    });
    const stored = await dataSource.manager.find(ProbeRow, { where: {} });
    const batch = stored.filter((row) => row.label.startsWith('batch-'));
    expect(batch).toHaveLength(2_500);
    expect(new Set(batch.map((row) => row.id)).size).toBe(2_500);
    const byLabel = new Map(batch.map((row) => [row.label, row]));
    expect(byLabel.get('batch-10')?.counted).toBe(10);
    expect(byLabel.get('batch-11')?.counted).toBe(7);
    expect(byLabel.get('batch-11')?.payload).toBeNull();
    // Two column sets, each chunked under the bound-parameter limit: a handful of statements, not 2,500.
    expect(statements.length).toBeGreaterThanOrEqual(2);
    expect(statements.length).toBeLessThanOrEqual(6);
  });

  it('rolls back with the transaction it runs in', async () => {
    await expect(
      dataSource.transaction(async (manager) => {
        await inserter.insert(manager, ProbeRow, { label: 'rolled-back' } as ProbeRow);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await dataSource.manager.countBy(ProbeRow, { label: 'rolled-back' })).toBe(0);
  });

  it('does nothing for an empty list', async () => {
    await expect(dataSource.transaction((manager) => inserter.insert(manager, ProbeRow, []))).resolves.toBeUndefined();
  });

  it('RowReader.findBy reads back exactly what TypeORM findBy returns, for equality, NULL and IN criteria', async () => {
    const due = new Date('2026-11-22T09:45:00.000Z');
    const rows = [
      { label: `reader-a ${TEXT}`, payload: { text: TEXT }, dueAt: due, flagged: true, bigNumber: 42 },
      { label: 'reader-b', payload: null, dueAt: null, flagged: false, bigNumber: null },
      { label: 'reader-c', payload: [1, 'two'], dueAt: due, flagged: false, bigNumber: 7 },
    ] as ProbeRow[];
    await dataSource.transaction((manager) => inserter.insert(manager, ProbeRow, rows));
    const reader = new RowReader(dataSource, ProbeRow);
    const manager = dataSource.manager;
    const byLabel = (list: ProbeRow[]) => [...list].sort((a, b) => a.label.localeCompare(b.label));

    const one = await reader.findOneBy(manager, { id: rows[0]!.id });
    expect(one).toEqual(await manager.findOneBy(ProbeRow, { id: rows[0]!.id }));
    expect(one).toBeInstanceOf(ProbeRow);
    expect(one?.dueAt).toEqual(due);
    expect(one?.flagged).toBe(true);

    const labels = rows.map((row) => row.label);
    expect(byLabel(await reader.findBy(manager, { label: labels, flagged: false }))).toEqual(
      byLabel(await manager.find(ProbeRow, { where: [{ label: 'reader-b' }, { label: 'reader-c' }] })),
    );
    const nulls = await reader.findBy(manager, { label: labels, dueAt: null });
    expect(nulls.map((row) => row.label)).toEqual(['reader-b']);
    expect(await reader.findBy(manager, { dueAt: due, label: labels })).toHaveLength(2);
    expect(await reader.findBy(manager, { label: [] })).toEqual([]);
    expect(await reader.findOneBy(manager, { label: 'no such label' })).toBeNull();
    // The same shape with other values reuses the statement and still binds the new values.
    expect((await reader.findOneBy(manager, { label: 'reader-c' }))?.payload).toEqual([1, 'two']);
  });

  it('RowUpdater.update sets values as TypeORM stores them, counts the rows it changed, and runs only in a transaction', async () => {
    const rows = [
      { label: 'updater-a', counted: 1 },
      { label: 'updater-b', counted: 1 },
      { label: 'updater-c', counted: 2 },
    ] as ProbeRow[];
    await dataSource.transaction((manager) => inserter.insert(manager, ProbeRow, rows));
    const updater = new RowUpdater(dataSource, ProbeRow);
    const due = new Date('2026-11-22T10:15:00.000Z');
    const changed = await dataSource.transaction((manager) =>
      updater.update(manager, { counted: 1, label: ['updater-a', 'updater-b', 'updater-c'] }, { payload: { text: TEXT }, dueAt: due, flagged: true }),
    );
    expect(changed).toBe(2);
    const after = await dataSource.manager.find(ProbeRow, {
      where: [{ label: 'updater-a' }, { label: 'updater-b' }, { label: 'updater-c' }],
      order: { label: 'ASC' },
    });
    expect(after.map((row) => [row.label, row.flagged, row.dueAt?.toISOString() ?? null, row.payload])).toEqual([
      ['updater-a', true, due.toISOString(), { text: TEXT }],
      ['updater-b', true, due.toISOString(), { text: TEXT }],
      ['updater-c', false, null, null],
    ]);
    // Optimistic concurrency as the bot uses it: a stale condition changes nothing.
    expect(await dataSource.transaction((manager) => updater.update(manager, { label: 'updater-c', counted: 99 }, { counted: 3 }))).toBe(0);
    expect(await dataSource.transaction((manager) => updater.update(manager, { label: 'updater-c', counted: 2 }, { counted: 3, dueAt: null }))).toBe(1);
    expect((await dataSource.manager.findOneByOrFail(ProbeRow, { label: 'updater-c' })).counted).toBe(3);
    await expect(updater.update(dataSource.manager, { label: 'updater-a' }, { counted: 5 })).rejects.toThrow('runs in a transaction');
  });
});
