import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn, type Json } from '../../platform/database/entity-columns.js';

export type NlpModelStatus = 'available' | 'active';

/** One registered model pack version. Files live under `<dataDir>/nlp/models/<name>/<version>/`. */
@Entity('nlp_models')
@Index('ux_nlp_models_name_version', ['name', 'version'], { unique: true })
export class NlpModelRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Column({ type: 'varchar', length: 64 })
  version: string;

  @Column({ type: 'varchar', length: 32 })
  task: string;

  @Column({ type: 'varchar', length: 16 })
  status: NlpModelStatus;

  @JsonColumn()
  manifest: Json;

  @Column({ type: 'varchar', length: 64 })
  sha256: string;

  @Column({ name: 'size_bytes', type: 'integer' })
  sizeBytes: number;

  /** The version that was active when this one was activated (rollback target). */
  @Column({ name: 'previous_version', type: 'varchar', length: 64, nullable: true })
  previousVersion: string | null;

  /** Core instance that holds the files first; others fetch them over the bus. */
  @Column({ name: 'source_instance', type: 'varchar', length: 128 })
  sourceInstance: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'activated_at', nullable: true })
  activatedAt: Date | null;

  @Column({ name: 'created_by', type: 'varchar', length: 191, nullable: true })
  createdBy: string | null;
}

export type TrainingJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

@Entity('nlp_training_jobs')
export class NlpTrainingJobRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Column({ type: 'varchar', length: 32 })
  task: string;

  @Column({ type: 'varchar', length: 16 })
  status: TrainingJobStatus;

  /** `{ phase, percent, epoch, loss, validationAccuracy, etaMs }` */
  @JsonColumn({ nullable: true })
  progress: Json | null;

  @JsonColumn({ nullable: true })
  metrics: Json | null;

  @Column({ name: 'model_version', type: 'varchar', length: 64, nullable: true })
  modelVersion: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  error: string | null;

  @Column({ type: 'varchar', length: 128 })
  instance: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'created_by', type: 'varchar', length: 191, nullable: true })
  createdBy: string | null;
}
