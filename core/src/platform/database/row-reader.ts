import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

interface ReadPlan {
  readonly columns: readonly ColumnMetadata[];
  readonly selectList: string;
  readonly table: string;
  readonly byProperty: ReadonlyMap<string, ColumnMetadata>;
}

/**
 * Equality criteria by property name for `findBy`: a value matches equal, `null` matches NULL, and an
 * array matches any of its elements (an empty array matches nothing).
 */
export type Criteria<Entity> = { [Property in keyof Entity]?: Entity[Property] | null | ReadonlyArray<Entity[Property]> };

/**
 * The read twin of `RowInserter`, for SQL a caller sends itself: the select list of an entity's columns and
 * the hydration of a raw result row into the entity, through the driver's `prepareHydratedValue` (so
 * transformers, JSON, dates and booleans come back exactly as TypeORM would return them).
 */
export class RowReader<Entity extends ObjectLiteral> {
  private plan?: ReadPlan;
  private readonly statements = new Map<string, string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly target: EntityTarget<Entity>,
  ) {}

  /** `col_a`, `col_b`, … : every column of the entity, escaped. */
  get selectList(): string {
    return this.planned().selectList;
  }

  /**
   * The rows matching `where`, hydrated as TypeORM would. The statement text is built once per shape of the
   * criteria and reused, where `manager.findBy` builds and escapes a query builder on every call (the largest
   * CPU cost of a simple read in embedded mode). Runs on `manager`, so inside its transaction if it has one.
   */
  async findBy(manager: EntityManager, where: Criteria<Entity>, limit?: number): Promise<Entity[]> {
    const plan = this.planned();
    const driver = this.dataSource.driver;
    const conditions: string[] = [];
    const params: unknown[] = [];
    for (const property of Object.keys(where).sort()) {
      const value = (where as Record<string, unknown>)[property];
      if (value === undefined) continue;
      const column = plan.byProperty.get(property);
      if (!column) throw new Error(`${plan.table} has no column for property ${property}`);
      const name = driver.escape(column.databaseName);
      if (value === null) conditions.push(`${name} IS NULL`);
      else if (Array.isArray(value)) {
        if (value.length === 0) return [];
        conditions.push(`${name} IN (${value.map(() => '?').join(', ')})`);
        for (const item of value) params.push(driver.preparePersistentValue(item, column));
      } else {
        conditions.push(`${name} = ?`);
        params.push(driver.preparePersistentValue(value, column));
      }
    }
    const shape = `${conditions.join(' AND ')}|${limit ?? ''}`;
    let sql = this.statements.get(shape);
    if (!sql) {
      sql = `SELECT ${plan.selectList} FROM ${plan.table}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''}${limit ? ` LIMIT ${Number(limit)}` : ''}`;
      if (this.statements.size < 256) this.statements.set(shape, sql);
    }
    const rows = (await manager.query(sql, params)) as Array<Record<string, unknown>>;
    return rows.map((row) => this.hydrate(row));
  }

  async findOneBy(manager: EntityManager, where: Criteria<Entity>): Promise<Entity | null> {
    return (await this.findBy(manager, where, 1))[0] ?? null;
  }

  hydrate(raw: Record<string, unknown>): Entity {
    const metadata = this.dataSource.getMetadata(this.target);
    const entity = metadata.create() as Entity;
    for (const column of this.planned().columns) {
      column.setEntityValue(entity, this.dataSource.driver.prepareHydratedValue(raw[column.databaseName], column));
    }
    return entity;
  }

  private planned(): ReadPlan {
    if (!this.plan) {
      const metadata = this.dataSource.getMetadata(this.target);
      const columns = metadata.columns.filter((column) => !column.isVirtual && !column.isVirtualProperty);
      const escape = (name: string) => this.dataSource.driver.escape(name);
      this.plan = {
        columns,
        selectList: columns.map((column) => escape(column.databaseName)).join(', '),
        table: escape(metadata.tablePath),
        byProperty: new Map(columns.map((column) => [column.propertyPath, column])),
      };
    }
    return this.plan;
  }
}
