/**
 * CI's quick BANKING77 check (CC BY 4.0, read from ../shared/data, never copied into the repo):
 * train on train.csv (shipped configuration without the refit pass), evaluate on test.csv through
 * the ONNX graph, fail below 91%. The full comparison with NLP.js lives in `npm run bench:nlp`.
 *
 * When the core is built (`npm test` builds first) the check runs the compiled code in a child
 * process: inside Jest's module sandbox the trainer's inner loops run about 3× slower. Training takes
 * about a minute on a quiet machine and took 212 s at load average 16, hence the 10-minute limit.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { banking77Check } from '../../src/nlp/bench/banking77-check.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const DATA = process.env.SB_SHARED_DATA ?? join(here, '../../../../shared/data');
const COMPILED = join(here, '../../dist/nlp/bench/banking77-check.js');
const SOURCES = ['trainer.ts', 'featuriser.ts', 'model.ts', 'onnx/export.ts', 'bench/banking77-check.ts'].map((f) => join(here, '../../src/nlp', f));

const compiledIsFresh = (): boolean => existsSync(COMPILED) && SOURCES.every((source) => statSync(source).mtimeMs <= statSync(COMPILED).mtimeMs);

describe('BANKING77 quick check', () => {
  it('reaches at least 91% test accuracy', async () => {
    if (!existsSync(join(DATA, 'banking77', 'train.csv'))) {
      if (process.env.CI === 'true') throw new Error(`BANKING77 is missing at ${DATA} (set SB_SHARED_DATA)`);
      return;
    }
    let result: { accuracy: number; macro_f1: number; n: number; trainingMs: number };
    if (compiledIsFresh()) {
      const { stdout } = await promisify(execFile)(process.execPath, [COMPILED, DATA], { timeout: 560_000, maxBuffer: 1 << 20 });
      result = JSON.parse(stdout.trim().split('\n').pop()!) as typeof result;
    } else {
      result = await banking77Check(DATA);
    }
    process.stdout.write(
      `BANKING77 quick check: accuracy ${(result.accuracy * 100).toFixed(2)}%, macro-F1 ${(result.macro_f1 * 100).toFixed(2)}, training ${(result.trainingMs / 1000).toFixed(1)} s\n`,
    );
    expect(result.n).toBe(3080);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.91);
  }, 600_000);
});
