import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train, type TrainResult } from '../../src/nlp/trainer.js';
import { Featuriser } from '../../src/nlp/featuriser.js';
import { predictProba } from '../../src/nlp/model.js';
import { buildPack, readPack, referenceModel, writePack, type Pack } from '../../src/nlp/pack.js';
import { OnnxClassifier } from '../../src/nlp/runtime.js';
import { decodeModel } from '../../src/nlp/onnx/onnx-schema.js';
import { GARBAGE, intentExamples, PROBES } from './fixtures.js';

describe('TypeScript reference vs ONNX graph', () => {
  let result: TrainResult;
  let pack: Pack;
  let onnx: OnnxClassifier;
  const dir = mkdtempSync(join(tmpdir(), 'sb-nlp-pack-'));
  const texts = [...intentExamples().map((e) => e.text), ...PROBES, ...Object.values(GARBAGE)];

  beforeAll(async () => {
    // Both branches and a validation split, so temperatures and the mix are all non-trivial.
    result = await train(intentExamples(), { featuriser: { hashBits: 16 }, embeddingDim: 16, maxEpochs: 15, validationFraction: 0.2, seed: 3 });
    pack = buildPack(result.model, {
      name: 'intent-test',
      task: 'intent',
      trainingDataHash: result.dataHash,
      metrics: result.metrics,
      outOfScopeThreshold: result.metrics.oosThreshold,
      createdAt: new Date('2026-01-01T00:00:00Z'),
    });
    onnx = await OnnxClassifier.load(pack);
  });

  afterAll(async () => {
    await onnx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains both branches with calibrated temperatures', () => {
    expect(result.model.linear).toBeDefined();
    expect(result.model.embedding).toBeDefined();
    expect(result.model.linear!.temperature).toBeGreaterThan(0);
    expect(result.metrics.oosThreshold).toBeGreaterThanOrEqual(0.05);
  });

  it('writes a valid ONNX protobuf that decodes to the same graph', () => {
    const proto = decodeModel(pack.onnx);
    expect(proto.opsetImport[0].version).toBe(13);
    expect(proto.graph.input.map((i) => i.name)).toEqual(['ids', 'values']);
    expect(proto.graph.output.map((o) => o.name)).toEqual(['probabilities']);
  });

  it('gives the same probabilities as the TypeScript reference (single and batched)', async () => {
    const featuriser = new Featuriser(result.model.featuriser);
    const features = texts.map((t) => featuriser.featurise(t));
    const batched = await onnx.runBatch(features);
    let maxDiff = 0;
    for (let i = 0; i < texts.length; i++) {
      const reference = predictProba(result.model, features[i]);
      const single = await onnx.probabilities(texts[i]);
      for (let k = 0; k < reference.length; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(reference[k] - single[k]), Math.abs(reference[k] - batched[i][k]));
      }
    }
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('save → load gives identical predictions, and the reference model round-trips', async () => {
    writePack(dir, pack);
    const loaded = readPack(dir);
    expect(loaded.manifest.labels).toEqual(result.model.labels);
    const again = await OnnxClassifier.load(loaded);
    try {
      const a = await onnx.predictMany(texts);
      const b = await again.predictMany(texts);
      expect(b).toEqual(a);
    } finally {
      await again.close();
    }
    const reference = referenceModel(loaded);
    const featuriser = new Featuriser(reference.featuriser);
    for (const text of PROBES) {
      const a = predictProba(reference, featuriser.featurise(text));
      const b = predictProba(result.model, featuriser.featurise(text));
      // Temperatures and the mix are stored as float32 in the graph.
      for (let k = 0; k < a.length; k++) expect(Math.abs(a[k] - b[k])).toBeLessThan(1e-6);
    }
  });

  it('learns the fixtures', async () => {
    const predictions = await onnx.predictMany(intentExamples().map((e) => e.text));
    const correct = predictions.filter((p, i) => p.label === intentExamples()[i].label).length;
    expect(correct / predictions.length).toBeGreaterThan(0.9);
    expect((await onnx.predict('我的快遞到哪了')).label).toBe('order_status');
  });
});
