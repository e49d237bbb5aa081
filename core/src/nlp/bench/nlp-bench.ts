/**
 * `npm run bench:nlp`: Switchboard's trainer + ONNX runtime against NLP.js (node-nlp) on the
 * public datasets in ../shared/data (read in place, never copied). Prints a Markdown table and
 * writes JSON to stdout's last line. Options: --only name,name  --skip-nlpjs  --skip-switchboard  --data DIR
 * --options JSON (TrainOptions for Switchboard's trainer instead of its defaults, e.g.
 * '{"embeddingActivation":"relu"}'; the rows then name them).
 *
 * Accuracy is on each dataset's test split; datasets without one use a fixed-seed 80/20 split.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { parseCsv, parseExamples } from '../data-io.js';
import { rng, train, type TrainExample, type TrainOptions } from '../trainer.js';
import { buildPack } from '../pack.js';
import { OnnxClassifier } from '../runtime.js';
import { evaluate, percentile } from '../metrics.js';
import * as ort from 'onnxruntime-node';
import { encodeModel, ONNX_DATA_TYPE } from '../onnx/onnx-schema.js';

interface Dataset {
  name: string;
  task: string;
  lang: 'en' | 'zh';
  train: TrainExample[];
  test: TrainExample[];
  metric: 'accuracy' | 'macro_f1';
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const DATA = resolve(flag('--data') ?? process.env.SB_SHARED_DATA ?? join(process.cwd(), '..', 'shared', 'data'));
const ONLY = flag('--only')?.split(',');
const SKIP_NLPJS = args.includes('--skip-nlpjs');
const SKIP_OURS = args.includes('--skip-switchboard');
const TRAIN_OPTIONS = JSON.parse(flag('--options') ?? '{}') as Omit<TrainOptions, 'onProgress' | 'shouldStop'>;

const read = (...parts: string[]) => readFileSync(join(DATA, ...parts), 'utf8');
const lines = (...parts: string[]) =>
  read(...parts)
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');

function split80(examples: TrainExample[], seed = 2026): { train: TrainExample[]; test: TrainExample[] } {
  const random = rng(seed);
  const shuffled = [...examples];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const cut = Math.round(shuffled.length * 0.8);
  return { train: shuffled.slice(0, cut), test: shuffled.slice(cut) };
}

function loaders(): Array<() => Dataset> {
  return [
    () => ({
      name: 'BANKING77',
      task: 'intent',
      lang: 'en',
      train: parseExamples(read('banking77', 'train.csv'), 'csv'),
      test: parseExamples(read('banking77', 'test.csv'), 'csv'),
      metric: 'accuracy',
    }),
    () => {
      const load = (file: string) =>
        (JSON.parse(read('smp2019_intent_zh', file)) as Array<{ text: string; intent: string }>).map((r) => ({ text: r.text, label: r.intent }));
      return { name: 'SMP2019', task: 'intent', lang: 'zh', train: load('train.json'), test: load('test.json'), metric: 'accuracy' };
    },
    () => {
      const [, ...rows] = parseCsv(read('waimai_10k_zh', 'waimai_10k.csv'));
      return {
        name: 'waimai_10k',
        task: 'sentiment',
        lang: 'zh',
        ...split80(rows.map((r) => ({ label: r[0], text: r.slice(1).join(',') }))),
        metric: 'accuracy',
      };
    },
    () => {
      const load = (file: string) => lines('sst2_en', file).map((l) => ({ label: l.slice(0, 1), text: l.slice(2) }));
      return { name: 'SST-2', task: 'sentiment', lang: 'en', train: load('stsa.binary.train'), test: load('stsa.binary.test'), metric: 'accuracy' };
    },
    () => {
      const load = (prefix: string) => {
        const texts = lines('tweeteval_emotion_en', `${prefix}_text.txt`);
        const labels = lines('tweeteval_emotion_en', `${prefix}_labels.txt`);
        return texts.map((text, i) => ({ text, label: labels[i].trim() }));
      };
      return { name: 'TweetEval emotion', task: 'emotion', lang: 'en', train: load('train'), test: load('test'), metric: 'macro_f1' };
    },
    () => {
      const rows = lines('smp2020_ewect_virus_zh', 'virus_train.json').map((l) => JSON.parse(l) as { content: string; label: string });
      return { name: 'SMP2020-EWECT', task: 'emotion', lang: 'zh', ...split80(rows.map((r) => ({ text: r.content, label: r.label }))), metric: 'macro_f1' };
    },
  ];
}

interface Row {
  dataset: string;
  /** Switchboard only: featurisation alone, and the onnxruntime call alone, single message. */
  featuriseP50ms?: number;
  onnxP50ms?: number;
  system: string;
  accuracy: number;
  macroF1: number;
  trainSeconds: number;
  sizeMB: number | null;
  p50ms: number;
  p99ms: number;
  batchedPerSecond: number | null;
}

async function timeSingles(texts: string[], predict: (text: string) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (const text of texts.slice(0, 50)) await predict(text);
  const times: number[] = [];
  for (const text of texts) {
    const t = process.hrtime.bigint();
    await predict(text);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

async function runOurs(data: Dataset): Promise<Row> {
  const started = Date.now();
  const result = await train(data.train, TRAIN_OPTIONS);
  const trainSeconds = (Date.now() - started) / 1000;
  const pack = buildPack(result.model, {
    name: data.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    task: data.task === 'intent' ? 'intent' : 'emotion',
    trainingDataHash: result.dataHash,
    metrics: result.metrics,
    outOfScopeThreshold: result.metrics.oosThreshold,
    createdAt: new Date(),
  });
  const classifier = await OnnxClassifier.load(pack);
  try {
    const texts = data.test.map((e) => e.text);
    const predictions = await classifier.predictMany(texts);
    const report = evaluate(
      data.test.map((e) => e.label),
      predictions.map((p) => p.label),
    );
    // Single message, end to end through the serving API: featurise + one ONNX run + top 3.
    const single = await timeSingles(texts, (text) => classifier.predict(text));
    const featurised = texts.map((text) => classifier.featurise(text));
    const featuriseOnly = await timeSingles(texts, async (text) => classifier.featurise(text));
    let next = 0;
    const onnxOnly = await timeSingles(texts, () => classifier.runBatch([featurised[next++ % featurised.length]]));
    const t = process.hrtime.bigint();
    await classifier.predictMany(texts);
    const batchedPerSecond = texts.length / (Number(process.hrtime.bigint() - t) / 1e9);
    return {
      dataset: data.name,
      system: `Switchboard (LR + embedding bag, ONNX)${Object.keys(TRAIN_OPTIONS).length ? ` ${JSON.stringify(TRAIN_OPTIONS)}` : ''}`,
      accuracy: report.accuracy,
      macroF1: report.macro_f1,
      trainSeconds,
      sizeMB: pack.onnx.byteLength / 1e6,
      p50ms: single.p50,
      p99ms: single.p99,
      batchedPerSecond,
      featuriseP50ms: featuriseOnly.p50,
      onnxP50ms: onnxOnly.p50,
    };
  } finally {
    await classifier.close();
  }
}

async function runNlpJs(data: Dataset): Promise<Row> {
  // NLP.js loads "plugins" from ./plugins of the working directory, and the repository root has a
  // plugins folder of Switchboard's own: run it from an empty directory.
  const cwd = process.cwd();
  const empty = mkdtempSync(join(tmpdir(), 'sb-nlpjs-'));
  process.chdir(empty);
  try {
    return await runNlpJsHere(data);
  } finally {
    process.chdir(cwd);
    rmSync(empty, { recursive: true, force: true });
  }
}

async function runNlpJsHere(data: Dataset): Promise<Row> {
  const require = createRequire(import.meta.url);
  const { NlpManager } = require('node-nlp') as {
    NlpManager: new (options: object) => {
      addDocument(lang: string, text: string, intent: string): void;
      train(): Promise<void>;
      process(lang: string, text: string): Promise<{ intent: string; classifications?: Array<{ intent: string; score: number }> }>;
    };
  };
  const manager = new NlpManager({
    languages: [data.lang],
    forceNER: false,
    nlu: { log: false, useNoneFeature: false },
    autoSave: false,
    autoLoad: false,
    modelFileName: '/dev/null',
  });
  for (const e of data.train) if (e.text.trim()) manager.addDocument(data.lang, e.text, e.label);
  const started = Date.now();
  await manager.train();
  const trainSeconds = (Date.now() - started) / 1000;
  const predicted: string[] = [];
  for (const e of data.test) {
    // The top class even below NLP.js's "None" threshold, so it is not penalised for abstaining.
    const result = await manager.process(data.lang, e.text);
    predicted.push(result.classifications?.find((c) => c.intent !== 'None')?.intent ?? result.intent);
  }
  const report = evaluate(
    data.test.map((e) => e.label),
    predicted,
  );
  const single = await timeSingles(
    data.test.map((e) => e.text),
    (text) => manager.process(data.lang, text),
  );
  return {
    dataset: data.name,
    system: 'NLP.js 4 (node-nlp)',
    accuracy: report.accuracy,
    macroF1: report.macro_f1,
    trainSeconds,
    sizeMB: null,
    p50ms: single.p50,
    p99ms: single.p99,
    batchedPerSecond: null,
  };
}

/**
 * The cost of one onnxruntime-node call on a graph that does nothing (Identity on a [1, 179]
 * float input, BANKING77's mean feature count): the floor under any single-message ONNX latency.
 */
async function onnxCallFloor(): Promise<{ p50: number; p99: number }> {
  const value = (name: string, elemType: number) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'features' }] } } },
  });
  const bytes = encodeModel({
    irVersion: 8,
    producerName: 'switchboard-nlp-bench',
    producerVersion: '1',
    graph: {
      name: 'identity',
      node: [{ name: 'identity', opType: 'Identity', input: ['values'], output: ['probabilities'], attribute: [] }],
      initializer: [],
      input: [value('values', ONNX_DATA_TYPE.FLOAT)],
      output: [value('probabilities', ONNX_DATA_TYPE.FLOAT)],
    },
    opsetImport: [{ domain: '', version: 13 }],
    metadataProps: [],
  });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  try {
    const input = new Float32Array(179).fill(0.5);
    return await timeSingles(
      Array.from({ length: 3000 }, () => ''),
      () => session.run({ values: new ort.Tensor('float32', input, [1, 179]) }),
    );
  } finally {
    await session.release();
  }
}

const pct = (v: number) => (v * 100).toFixed(2);

async function main(): Promise<void> {
  if (!existsSync(DATA)) throw new Error(`dataset folder ${DATA} not found (pass --data or SB_SHARED_DATA)`);
  const rows: Row[] = [];
  process.stderr.write(`NLP bench: data ${DATA}, node ${process.version}\n`);
  for (const load of loaders()) {
    const data = load();
    if (ONLY && !ONLY.some((o) => data.name.toLowerCase().startsWith(o.toLowerCase()))) continue;
    process.stderr.write(`${data.name}: ${data.train.length} train / ${data.test.length} test\n`);
    if (!SKIP_OURS) {
      rows.push(await runOurs(data));
      process.stderr.write(`  switchboard ${pct(rows.at(-1)!.accuracy)}% in ${rows.at(-1)!.trainSeconds.toFixed(1)} s\n`);
    }
    if (!SKIP_NLPJS) {
      rows.push(await runNlpJs(data));
      process.stderr.write(`  nlp.js ${pct(rows.at(-1)!.accuracy)}% in ${rows.at(-1)!.trainSeconds.toFixed(1)} s\n`);
    }
  }
  const table = [
    '| dataset | system | accuracy | macro-F1 | train s | model MB | p50 ms | p99 ms | batched msg/s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.dataset} | ${r.system} | ${pct(r.accuracy)}% | ${pct(r.macroF1)} | ${r.trainSeconds.toFixed(1)} | ${r.sizeMB === null ? '–' : r.sizeMB.toFixed(1)} | ${r.p50ms.toFixed(3)} | ${r.p99ms.toFixed(3)} | ${r.batchedPerSecond === null ? '–' : Math.round(r.batchedPerSecond)} |`,
    ),
  ];
  const floor = SKIP_OURS ? null : await onnxCallFloor();
  const parts = rows
    .filter((r) => r.featuriseP50ms !== undefined)
    .map((r) => `- ${r.dataset}: p50 featurise ${r.featuriseP50ms!.toFixed(3)} ms, ONNX run ${r.onnxP50ms!.toFixed(3)} ms`);
  if (floor) parts.push(`- one onnxruntime-node call on an Identity graph: p50 ${floor.p50.toFixed(3)} ms, p99 ${floor.p99.toFixed(3)} ms`);
  const comparisons = [...new Set(rows.map((r) => r.dataset))].flatMap((dataset) => {
    const ours = rows.find((r) => r.dataset === dataset && r.system.startsWith('Switchboard'));
    const theirs = rows.find((r) => r.dataset === dataset && r.system.startsWith('NLP.js'));
    return ours && theirs
      ? [
          `- ${dataset}: accuracy ${(100 * (ours.accuracy - theirs.accuracy)).toFixed(2)} points vs NLP.js; p50 latency ${(theirs.p50ms / ours.p50ms).toFixed(1)}× faster, p99 ${(theirs.p99ms / ours.p99ms).toFixed(1)}× faster`,
        ]
      : [];
  });
  process.stdout.write(`${table.join('\n')}\n\n${comparisons.join('\n')}\n\n${parts.join('\n')}\n\n${JSON.stringify({ rows, onnxCallFloor: floor })}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`bench:nlp failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
