import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BigIntColumn, TimestampColumn } from '../../platform/database/entity-columns.js';

/**
 * One audit entry. Append-only: `hash = SHA-256(prev_hash ‖ canonical(entry))`, so an edited
 * or deleted row breaks the chain and `switchboard audit verify` names it.
 */
@Entity('audit_log')
export class AuditRow {
  @PrimaryColumn({ type: 'bigint', transformer: { to: (v: unknown) => v, from: (v: unknown) => (v === null || v === undefined ? v : Number(v)) } })
  seq: number;

  @TimestampColumn()
  at: Date;

  @Column({ name: 'actor_kind', type: 'varchar', length: 16 })
  actorKind: string;

  @Column({ name: 'actor_id', type: 'varchar', length: 191, nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 128 })
  action: string;

  @Column({ name: 'object_type', type: 'varchar', length: 64, nullable: true })
  objectType: string | null;

  @Column({ name: 'object_id', type: 'varchar', length: 191, nullable: true })
  objectId: string | null;

  @Column({ type: 'varchar', length: 16 })
  outcome: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  /** Canonical JSON text exactly as hashed. */
  @Column({ type: 'text', nullable: true })
  details: string | null;

  @Column({ name: 'prev_hash', type: 'varchar', length: 64 })
  prevHash: string;

  @Column({ type: 'varchar', length: 64 })
  hash: string;
}

/** The chain's head (one row, id 1): the last seq and hash, locked while appending. */
@Entity('audit_head')
export class AuditHeadRow {
  @PrimaryColumn({ type: 'integer' })
  id: number;

  @BigIntColumn({ name: 'last_seq' })
  lastSeq: number;

  @Column({ name: 'last_hash', type: 'varchar', length: 64 })
  lastHash: string;
}
