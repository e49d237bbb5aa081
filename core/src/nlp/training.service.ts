import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import type { Json } from '../platform/database/entity-columns.js';
import { NlpTrainingJobRow } from './entities/nlp-model.entity.js';
import { ModelRegistry } from './registry.service.js';
import { NlpError } from './nlp.error.js';
import { startTraining, type RunningTraining } from './training-job.js';
import type { NlpTask } from './pack.js';
import type { TrainExample, TrainOptions, TrainProgress } from './trainer.js';
import { OnnxClassifier } from './runtime.js';
import { evaluate, type EvalReport } from './metrics.js';

export interface StartTrainingRequest {
  task: NlpTask;
  name?: string;
  examples: TrainExample[];
  activate?: boolean;
  options?: Pick<
    TrainOptions,
    'branches' | 'maxEpochs' | 'validationFraction' | 'classWeights' | 'embeddingDim' | 'embeddingMembers' | 'embeddingActivation' | 'seed'
  >;
}

export interface TrainingJobView {
  id: string;
  name: string;
  task: string;
  status: string;
  progress: TrainProgress | null;
  metrics: unknown;
  modelVersion: string | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

const MAX_EXAMPLES = 200_000;

/** Training jobs: one worker thread each, progress persisted (throttled) so any instance can report it. */
@Injectable()
export class TrainingService implements OnModuleDestroy {
  private readonly logger = new Logger('nlp-training');
  private readonly running = new Map<string, { run: RunningTraining; done: Promise<void> }>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ModelRegistry,
  ) {}

  async onModuleDestroy(): Promise<void> {
    for (const { run } of this.running.values()) run.cancel();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  async start(request: StartTrainingRequest, actorId: string | null): Promise<TrainingJobView> {
    const examples = (request.examples ?? []).filter((e) => e && typeof e.text === 'string' && typeof e.label === 'string');
    if (examples.length < 2 || new Set(examples.map((e) => e.label)).size < 2) {
      throw new NlpError('nlp_invalid_training_data', 'Training needs at least 2 examples with 2 different labels.');
    }
    if (examples.length > MAX_EXAMPLES) throw new NlpError('nlp_invalid_training_data', `At most ${MAX_EXAMPLES} examples per job.`);
    const name = request.name ?? request.task;
    const now = this.clock.now();
    const row: NlpTrainingJobRow = Object.assign(new NlpTrainingJobRow(), {
      id: randomUUID(),
      name,
      task: request.task,
      status: 'running',
      progress: { phase: 'featurising', percent: 0 },
      metrics: null,
      modelVersion: null,
      error: null,
      instance: this.config.instanceId,
      createdAt: now,
      finishedAt: null,
      createdBy: actorId,
    });
    await this.dataSource.manager.insert(NlpTrainingJobRow, row);
    let lastWrite = 0;
    let latest: TrainProgress | null = null;
    const run = startTraining({ examples, options: request.options ?? {}, info: { name, task: request.task, createdAt: now.toISOString() } }, (progress) => {
      latest = progress;
      const t = Date.now();
      if (t - lastWrite < 500) return;
      lastWrite = t;
      void this.dataSource.manager
        .update(NlpTrainingJobRow, { id: row.id, status: 'running' }, { progress: progress as unknown as Json })
        .catch(() => undefined);
    });
    const done = run.result
      .then(async (pack) => {
        const model = await this.registry.register(pack, actorId, { activate: request.activate ?? false });
        await this.dataSource.manager.update(
          NlpTrainingJobRow,
          { id: row.id },
          {
            status: 'succeeded',
            progress: { ...(latest ?? {}), phase: 'done', percent: 100, etaMs: 0 } as Json,
            metrics: pack.manifest.metrics as Json,
            modelVersion: model.version,
            finishedAt: this.clock.now(),
          },
        );
      })
      .catch(async (error: Error) => {
        const cancelled = /cancelled/.test(error.message);
        this.logger.warn({ job: row.id, reason: error.message }, 'training job ended without a model');
        await this.dataSource.manager
          .update(
            NlpTrainingJobRow,
            { id: row.id },
            { status: cancelled ? 'cancelled' : 'failed', error: error.message.slice(0, 500), finishedAt: this.clock.now() },
          )
          .catch(() => undefined);
      })
      .finally(() => this.running.delete(row.id));
    this.running.set(row.id, { run, done });
    return this.view(row);
  }

  async get(id: string): Promise<TrainingJobView> {
    const row = await this.dataSource.manager.findOne(NlpTrainingJobRow, { where: { id } });
    if (!row) throw new NlpError('nlp_job_not_found', 'There is no such training job.', { id });
    return this.view(row);
  }

  async list(): Promise<TrainingJobView[]> {
    const rows = await this.dataSource.manager.find(NlpTrainingJobRow, { order: { createdAt: 'DESC' }, take: 100 });
    return rows.map((row) => this.view(row));
  }

  async cancel(id: string): Promise<TrainingJobView> {
    const job = await this.get(id);
    const running = this.running.get(id);
    if (job.status !== 'running' || !running) throw new NlpError('nlp_job_not_running', 'The job is not running on this instance.', { id, status: job.status });
    running.run.cancel();
    await running.done;
    return this.get(id);
  }

  /** Waits for a job started on this instance (tests, CLI). */
  async wait(id: string): Promise<TrainingJobView> {
    await this.running.get(id)?.done;
    return this.get(id);
  }

  /** Accuracy/macro-F1 of a registered version on labelled examples. */
  async evaluate(name: string, version: string | undefined, examples: TrainExample[]): Promise<EvalReport> {
    const rows = await this.registry.list(name);
    const target = version ? rows.find((r) => r.version === version) : rows.find((r) => r.status === 'active');
    if (!target) throw new NlpError('nlp_model_not_found', `There is no model ${name}${version ? ` version ${version}` : ''}.`, { name, version });
    const row = await this.registry.row(name, target.version);
    const classifier = await OnnxClassifier.load(await this.registry.localPack(row));
    try {
      const predictions = await classifier.predictMany(examples.map((e) => e.text));
      return evaluate(
        examples.map((e) => e.label),
        predictions.map((p) => p.label),
      );
    } finally {
      await classifier.close();
    }
  }

  private view(row: NlpTrainingJobRow): TrainingJobView {
    return {
      id: row.id,
      name: row.name,
      task: row.task,
      status: row.status,
      progress: row.progress as TrainProgress | null,
      metrics: row.metrics,
      modelVersion: row.modelVersion,
      error: row.error,
      createdAt: row.createdAt.toISOString(),
      finishedAt: row.finishedAt ? row.finishedAt.toISOString() : null,
    };
  }
}
