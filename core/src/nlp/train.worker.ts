/**
 * Worker-thread entry for training: receives `{ examples, options, info }`, posts progress
 * messages and finally `{ type: 'done', manifest, onnx }` or `{ type: 'error', message }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTrainingJob, type TrainingJobInput } from './training-job.js';

const input = workerData as TrainingJobInput;
let cancelled = false;
parentPort?.on('message', (message: { type: string }) => {
  if (message?.type === 'cancel') cancelled = true;
});
runTrainingJob(
  input,
  (progress) => parentPort?.postMessage({ type: 'progress', progress }),
  () => cancelled,
).then(
  (pack) => parentPort?.postMessage({ type: 'done', manifest: pack.manifest, onnx: pack.onnx }, [pack.onnx.buffer as ArrayBuffer]),
  (error: Error) => parentPort?.postMessage({ type: 'error', message: error.message, cancelled }),
);
