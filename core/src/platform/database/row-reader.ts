import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { Driver } from 'typeorm/driver/Driver.js';

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
    const { conditions, params, none } = plan.conditions(this.dataSource.driver, where);
    if (none) return [];
    const shape = `${conditions}|${limit ?? ''}`;
    let sql = this.statements.get(shape);
    if (!sql) {
      sql = `SELECT ${plan.selectList} FROM ${plan.table}${conditions ? ` WHERE ${conditions}` : ''}${limit ? ` LIMIT ${Number(limit)}` : ''}`;
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

  private planned(): EntityPlan {
    return EntityPlan.of(this.dataSource, this.target);
  }
}

const plans = new WeakMap<DataSource, Map<EntityTarget<ObjectLiteral>, EntityPlan>>();

/** An entity's table and columns, escaped for the data source's driver: planned once, shared by readers and updaters. */
export class EntityPlan {
  readonly columns: readonly ColumnMetadata[];
  readonly selectList: string;
  readonly table: string;
  readonly byProperty: ReadonlyMap<string, ColumnMetadata>;

  private constructor(dataSource: DataSource, target: EntityTarget<ObjectLiteral>) {
    const metadata = dataSource.getMetadata(target);
    const escape = (name: string) => dataSource.driver.escape(name);
    this.columns = metadata.columns.filter((column) => !column.isVirtual && !column.isVirtualProperty);
    this.selectList = this.columns.map((column) => escape(column.databaseName)).join(', ');
    this.table = escape(metadata.tablePath);
    this.byProperty = new Map(this.columns.map((column) => [column.propertyPath, column]));
  }

  static of(dataSource: DataSource, target: EntityTarget<ObjectLiteral>): EntityPlan {
    let byTarget = plans.get(dataSource);
    if (!byTarget) plans.set(dataSource, (byTarget = new Map()));
    let plan = byTarget.get(target);
    if (!plan) byTarget.set(target, (plan = new EntityPlan(dataSource, target)));
    return plan;
  }

  column(property: string): ColumnMetadata {
    const column = this.byProperty.get(property);
    if (!column) throw new Error(`${this.table} has no column for property ${property}`);
    return column;
  }

  /**
   * `col_a = ? AND col_b IS NULL AND col_c IN (?, ?)` for criteria by property name (sorted, so one shape gives
   * one text), with the values converted as TypeORM stores them. `none`: an empty list matches no row.
   */
  conditions(driver: Driver, where: Record<string, unknown>): { conditions: string; params: unknown[]; none: boolean } {
    const parts: string[] = [];
    const params: unknown[] = [];
    for (const property of Object.keys(where).sort()) {
      const value = where[property];
      if (value === undefined) continue;
      const column = this.column(property);
      const name = driver.escape(column.databaseName);
      if (value === null) parts.push(`${name} IS NULL`);
      else if (Array.isArray(value)) {
        if (value.length === 0) return { conditions: '', params: [], none: true };
        parts.push(`${name} IN (${value.map(() => '?').join(', ')})`);
        for (const item of value) params.push(driver.preparePersistentValue(item, column));
      } else {
        parts.push(`${name} = ?`);
        params.push(driver.preparePersistentValue(value, column));
      }
    }
    return { conditions: parts.join(' AND '), params, none: false };
  }
}
