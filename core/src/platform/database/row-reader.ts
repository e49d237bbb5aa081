import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

interface ReadPlan {
  readonly columns: readonly ColumnMetadata[];
  readonly selectList: string;
}

/**
 * The read twin of `RowInserter`, for SQL a caller sends itself: the select list of an entity's columns and
 * the hydration of a raw result row into the entity, through the driver's `prepareHydratedValue` (so
 * transformers, JSON, dates and booleans come back exactly as TypeORM would return them).
 */
export class RowReader<Entity extends ObjectLiteral> {
  private plan?: ReadPlan;

  constructor(
    private readonly dataSource: DataSource,
    private readonly target: EntityTarget<Entity>,
  ) {}

  /** `col_a`, `col_b`, … : every column of the entity, escaped. */
  get selectList(): string {
    return this.planned().selectList;
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
      this.plan = { columns, selectList: columns.map((column) => escape(column.databaseName)).join(', ') };
    }
    return this.plan;
  }
}
