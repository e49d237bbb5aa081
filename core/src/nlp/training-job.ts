import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildPack, type NlpTask, type Pack } from './pack.js';
import { train, type TrainExample, type TrainOptions, type TrainProgress } from './trainer.js';

export interface TrainingJobInput {
  examples: TrainExample[];
  options: Omit<TrainOptions, 'onProgress' | 'shouldStop'>;
  info: { name: string; task: NlpTask; version?: string; createdAt: string; description?: string };
}

function languagesOf(examples: TrainExample[]): string[] {
  const sample = examples
    .slice(0, 2000)
    .map((e) => e.text)
    .join(' ');
  const langs = new Set<string>();
  if (/\p{Script=Han}/u.test(sample)) langs.add('zh');
  if (/[\u3040-\u30FF]/.test(sample)) langs.add('ja');
  if (/[\uAC00-\uD7AF]/.test(sample)) langs.add('ko');
  if (/\p{Script=Latin}/u.test(sample)) langs.add('latin');
  return [...langs];
}

/** Trains and packs, in whatever thread calls it. */
export async function runTrainingJob(input: TrainingJobInput, onProgress: (p: TrainProgress) => void, shouldStop: () => boolean): Promise<Pack> {
  const result = await train(input.examples, { ...input.options, onProgress, shouldStop });
  return buildPack(result.model, {
    name: input.info.name,
    task: input.info.task,
    version: input.info.version,
    trainingDataHash: result.dataHash,
    metrics: result.metrics,
    outOfScopeThreshold: input.info.task === 'intent' ? result.metrics.oosThreshold : 0,
    createdAt: new Date(input.info.createdAt),
    languages: languagesOf(input.examples),
    description: input.info.description,
  });
}

export interface RunningTraining {
  result: Promise<Pack>;
  cancel(): void;
  inWorker: boolean;
}

/**
 * Runs a job in a worker thread when the compiled worker exists (the built app); otherwise
 * (ts sources under Jest) in this thread, yielding to the event loop between batches.
 */
export function startTraining(input: TrainingJobInput, onProgress: (p: TrainProgress) => void): RunningTraining {
  const workerUrl = new URL('./train.worker.js', import.meta.url);
  const workerPath = workerUrl.protocol === 'file:' ? fileURLToPath(workerUrl) : '';
  if (workerPath && existsSync(workerPath) && !process.env.JEST_WORKER_ID) {
    const worker = new Worker(workerPath, { workerData: input });
    const result = new Promise<Pack>((resolve, reject) => {
      worker.on('message', (message: { type: string; progress?: TrainProgress; manifest?: Pack['manifest']; onnx?: Uint8Array; message?: string }) => {
        if (message.type === 'progress' && message.progress) onProgress(message.progress);
        else if (message.type === 'done') resolve({ manifest: message.manifest!, onnx: new Uint8Array(message.onnx!) });
        else if (message.type === 'error') reject(new Error(message.message));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => (code !== 0 ? reject(new Error(`training worker exited with code ${code}`)) : undefined));
    }).finally(() => void worker.terminate());
    return { result, cancel: () => worker.postMessage({ type: 'cancel' }), inWorker: true };
  }
  let cancelled = false;
  return { result: runTrainingJob(input, onProgress, () => cancelled), cancel: () => (cancelled = true), inWorker: false };
}
