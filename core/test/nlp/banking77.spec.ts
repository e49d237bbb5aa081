/**
 * CI's quick BANKING77 check (CC BY 4.0, read from ../shared/data, never copied into the repo):
 * train on train.csv, evaluate on test.csv through the ONNX graph, fail below 91%.
 * The full comparison with NLP.js lives in `npm run bench:nlp`.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readExamples } from '../../src/nlp/data-io.js';
import { train } from '../../src/nlp/trainer.js';
import { buildPack } from '../../src/nlp/pack.js';
import { OnnxClassifier } from '../../src/nlp/runtime.js';
import { evaluate } from '../../src/nlp/metrics.js';

const DATA = process.env.SB_SHARED_DATA ?? join(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/data');
const dir = join(DATA, 'banking77');

describe('BANKING77 quick check', () => {
  it('reaches at least 91% test accuracy', async () => {
    if (!existsSync(join(dir, 'train.csv'))) {
      if (process.env.CI === 'true') throw new Error(`BANKING77 is missing at ${dir} (set SB_SHARED_DATA)`);
      return;
    }
    const trainSet = readExamples(join(dir, 'train.csv'));
    const testSet = readExamples(join(dir, 'test.csv'));
    // The shipped configuration minus the refit pass, to stay well under 2 minutes on 2 cores.
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
      process.stdout.write(
        `BANKING77 quick check: accuracy ${(report.accuracy * 100).toFixed(2)}%, macro-F1 ${(report.macro_f1 * 100).toFixed(2)}, training ${(result.metrics.trainingMs / 1000).toFixed(1)} s\n`,
      );
      expect(report.accuracy).toBeGreaterThanOrEqual(0.91);
    } finally {
      await classifier.close();
    }
  }, 300_000);
});
