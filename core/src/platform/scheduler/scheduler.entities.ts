import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { JsonColumn, TimestampColumn, type Json } from '../database/entity-columns.js';

@Entity('scheduler_jobs')
export class SchedulerJobRow {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  name: string;

  @Column({ name: 'interval_ms', type: 'integer' })
  intervalMs: number;

  @TimestampColumn({ name: 'next_run_at' })
  nextRunAt: Date;

  @Column({ name: 'locked_by', type: 'varchar', length: 128, nullable: true })
  lockedBy: string | null;

  @TimestampColumn({ name: 'locked_until', nullable: true })
  lockedUntil: Date | null;

  @TimestampColumn({ name: 'last_run_at', nullable: true })
  lastRunAt: Date | null;

  @Column({ name: 'last_outcome', type: 'varchar', length: 500, nullable: true })
  lastOutcome: string | null;

  @Column({ name: 'run_count', type: 'integer', default: 0 })
  runCount: number;
}

@Entity('scheduler_timers')
@Index('ix_timers_due', ['firedAt', 'dueAt'])
export class SchedulerTimerRow {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'timer_key', type: 'varchar', length: 191, unique: true })
  key: string;

  @Column({ type: 'varchar', length: 64 })
  kind: string;

  @TimestampColumn({ name: 'due_at' })
  dueAt: Date;

  @JsonColumn({ nullable: true })
  payload: Json;

  @Column({ name: 'claimed_by', type: 'varchar', length: 128, nullable: true })
  claimedBy: string | null;

  @TimestampColumn({ name: 'claimed_until', nullable: true })
  claimedUntil: Date | null;

  @TimestampColumn({ name: 'fired_at', nullable: true })
  firedAt: Date | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError: string | null;
}
