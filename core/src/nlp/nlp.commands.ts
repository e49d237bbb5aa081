import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { readExamples } from './data-io.js';
import { readPack, type NlpTask, NLP_TASKS, sha256, writePack } from './pack.js';
import { OnnxClassifier } from './runtime.js';
import { evaluate } from './metrics.js';
import { startTraining } from './training-job.js';
import { annotateText } from './annotator.js';
import { buildDefaultPacks } from './registry.service.js';

const out = (text: string) => process.stdout.write(text);

/** `switchboard nlp train|eval|predict`: offline, no database or bus needed. */
export function registerNlpCommands(program: Command): void {
  const nlp = program.command('nlp').description('Train, evaluate and try NLP model packs (offline)');

  nlp
    .command('train')
    .description('Train a model pack from CSV (text + label|category columns) or JSONL (text, label)')
    .requiredOption('--task <task>', `one of ${NLP_TASKS.join(', ')}`)
    .requiredOption('--data <file>', 'training data')
    .requiredOption('--out <dir>', 'directory that receives model.onnx + manifest.json')
    .option('--name <name>', 'registry name (default: the task)')
    .option('--linear-only', 'train only the logistic-regression branch (faster, smaller)')
    .option('--epochs <n>', 'maximum epochs', (v) => Number.parseInt(v, 10))
    .option('--seed <n>', 'random seed', (v) => Number.parseInt(v, 10))
    .action(async (options: { task: string; data: string; out: string; name?: string; linearOnly?: boolean; epochs?: number; seed?: number }) => {
      if (!NLP_TASKS.includes(options.task as NlpTask)) throw new Error(`--task must be one of ${NLP_TASKS.join(', ')}`);
      const examples = readExamples(resolve(options.data));
      const started = Date.now();
      let lastLine = 0;
      const run = startTraining(
        {
          examples,
          options: {
            ...(options.linearOnly ? { branches: ['linear'] } : {}),
            ...(options.epochs ? { maxEpochs: options.epochs } : {}),
            ...(options.seed !== undefined ? { seed: options.seed } : {}),
          },
          info: { name: options.name ?? options.task, task: options.task as NlpTask, createdAt: new Date().toISOString() },
        },
        (p) => {
          if (Date.now() - lastLine < 1000 && p.phase !== 'done') return;
          lastLine = Date.now();
          const eta = p.etaMs !== undefined ? ` eta ${Math.round(p.etaMs / 1000)}s` : '';
          const loss = p.loss !== undefined ? ` loss ${p.loss.toFixed(4)}` : '';
          const val = p.validationAccuracy !== undefined ? ` val ${(p.validationAccuracy * 100).toFixed(1)}%` : '';
          process.stderr.write(`[${p.percent.toFixed(1).padStart(5)}%] ${p.phase}${p.epoch ? ` epoch ${p.epoch}` : ''}${loss}${val}${eta}\n`);
        },
      );
      const pack = await run.result;
      writePack(resolve(options.out), pack);
      const m = pack.manifest.metrics as { validation?: { accuracy: number; macro_f1: number } | null; oosThreshold?: number };
      out(
        `Trained ${pack.manifest.name} ${pack.manifest.version} on ${examples.length} examples, ${pack.manifest.labels.length} labels in ${((Date.now() - started) / 1000).toFixed(1)} s\n` +
          (m.validation ? `  validation accuracy ${(m.validation.accuracy * 100).toFixed(2)}%, macro-F1 ${(m.validation.macro_f1 * 100).toFixed(2)}\n` : '') +
          `  out-of-scope threshold ${pack.manifest.outOfScopeThreshold.toFixed(3)}\n  pack: ${resolve(options.out)} (model.onnx ${(pack.onnx.byteLength / 1e6).toFixed(1)} MB)\n`,
      );
    });

  nlp
    .command('defaults')
    .description('Train the default packs (intent, emotion, language) as the core does at first start, into <out>/<name>/')
    .requiredOption('--out <dir>', 'directory that receives <name>/model.onnx + manifest.json per default pack')
    .option('--json', 'print one JSON line per pack {"name","version","task","sha256","dir"}')
    .action(async (options: { out: string; json?: boolean }) => {
      for (const pack of await buildDefaultPacks()) {
        const dir = join(resolve(options.out), pack.manifest.name);
        writePack(dir, pack);
        // Read back and load as the registry will: a pack this runtime cannot load fails here, not at first start.
        await (await OnnxClassifier.load(readPack(dir))).close();
        const { name, version, task } = pack.manifest;
        const line = { name, version, task, sha256: sha256(pack.onnx), dir };
        out(options.json ? `${JSON.stringify(line)}\n` : `${name} ${version} ${line.sha256}  ${dir}\n`);
      }
    });

  nlp
    .command('eval')
    .description('Evaluate a model pack on labelled data')
    .requiredOption('--model <dir>', 'model pack directory')
    .requiredOption('--data <file>', 'labelled data (CSV or JSONL)')
    .option('--json', 'print one JSON line {"accuracy","macro_f1","n"}')
    .action(async (options: { model: string; data: string; json?: boolean }) => {
      const examples = readExamples(resolve(options.data));
      const classifier = await OnnxClassifier.load(readPack(resolve(options.model)));
      try {
        const predictions = await classifier.predictMany(examples.map((e) => e.text));
        const report = evaluate(
          examples.map((e) => e.label),
          predictions.map((p) => p.label),
        );
        if (options.json) {
          out(`${JSON.stringify({ accuracy: report.accuracy, macro_f1: report.macro_f1, n: report.n })}\n`);
          return;
        }
        out(`accuracy ${(report.accuracy * 100).toFixed(2)}%  macro-F1 ${(report.macro_f1 * 100).toFixed(2)}  n ${report.n}\n\n`);
        out(`${'label'.padEnd(40)} precision  recall     f1  support\n`);
        for (const c of report.perClass) {
          out(
            `${c.label.padEnd(40)} ${c.precision.toFixed(3).padStart(9)} ${c.recall.toFixed(3).padStart(7)} ${c.f1.toFixed(3).padStart(6)} ${String(c.support).padStart(8)}\n`,
          );
        }
        out(`\nmost frequent confusions (expected → predicted):\n`);
        for (const c of report.confusions.slice(0, 20)) out(`  ${String(c.count).padStart(4)}  ${c.expected} → ${c.predicted}\n`);
      } finally {
        await classifier.close();
      }
    });

  nlp
    .command('predict')
    .description('Predict with a model pack; without --model, annotate with the default models')
    .option('--model <dir>', 'model pack directory')
    .option('--top <k>', 'labels to show', (v) => Number.parseInt(v, 10), 3)
    .argument('<text>', 'the text')
    .action(async (text: string, options: { model?: string; top: number }) => {
      if (options.model) {
        const classifier = await OnnxClassifier.load(readPack(resolve(options.model)));
        try {
          const p = await classifier.predict(text, options.top);
          const oos = classifier.manifest.task === 'intent' && p.confidence < classifier.manifest.outOfScopeThreshold;
          out(`${JSON.stringify({ label: oos ? null : p.label, candidate: p.label, confidence: p.confidence, outOfScope: oos, top: p.top })}\n`);
        } finally {
          await classifier.close();
        }
        return;
      }
      const packs = await buildDefaultPacks();
      const models = await Promise.all(packs.map((pack) => OnnxClassifier.load(pack)));
      const byName = Object.fromEntries(models.map((m) => [m.manifest.name, m]));
      try {
        out(`${JSON.stringify(await annotateText(text, { intent: byName.intent, emotion: byName.emotion, language: byName.language }))}\n`);
      } finally {
        await Promise.all(models.map((m) => m.close()));
      }
    });
}
