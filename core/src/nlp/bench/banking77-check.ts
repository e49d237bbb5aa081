/**
 * The quick BANKING77 check as a plain Node script (used by core/test/nlp/banking77.spec.ts when
 * the core is built: Jest's module sandbox runs the trainer's inner loops about 3× slower).
 * Prints one JSON line: {"accuracy","macro_f1","n","trainingMs"}.
 * Usage: node core/dist/nlp/bench/banking77-check.js [DATA_DIR]
 */
import { join, resolve } from 'node:path';
import { readExamples } from '../data-io.js';
import { train } from '../trainer.js';
import { buildPack } from '../pack.js';
import { OnnxClassifier } from '../runtime.js';
import { evaluate } from '../metrics.js';

export async function banking77Check(dataDir: string): Promise<{ accuracy: number; macro_f1: number; n: number; trainingMs: number }> {
  const trainSet = readExamples(join(dataDir, 'banking77', 'train.csv'));
  const testSet = readExamples(join(dataDir, 'banking77', 'test.csv'));
  // The shipped configuration minus the refit pass.
  const result = await train(trainSet, { refit: false });
  const pack = buildPack(result.model, {
    name: 'banking77',
    task: 'intent',
    trainingDataHash: result.dataHash,
    metrics: result.metrics,
    outOfScopeThreshold: result.metrics.oosThreshold,
    createdAt: new Date(),
  });
  const classifier = await OnnxClassifier.load(pack);
  try {
    const predictions = await classifier.predictMany(testSet.map((e) => e.text));
    const report = evaluate(
      testSet.map((e) => e.label),
      predictions.map((p) => p.label),
    );
    return { accuracy: report.accuracy, macro_f1: report.macro_f1, n: report.n, trainingMs: result.metrics.trainingMs };
  } finally {
    await classifier.close();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '\u0000')) {
  const dir = resolve(process.argv[2] ?? process.env.SB_SHARED_DATA ?? join(process.cwd(), '..', 'shared', 'data'));
  banking77Check(dir).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
