import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train, type TrainResult } from '../../src/nlp/trainer.js';
import { Featuriser } from '../../src/nlp/featuriser.js';
import { embeddingHidden, embeddingLogits, predictProba } from '../../src/nlp/model.js';
import { mergeEmbeddings, rng } from '../../src/nlp/trainer.js';
import { buildPack, readPack, referenceModel, writePack, type Pack } from '../../src/nlp/pack.js';
import { OnnxClassifier } from '../../src/nlp/runtime.js';
import { decodeModel } from '../../src/nlp/onnx/onnx-schema.js';
import { GARBAGE, intentExamples, maxParityDiff, PROBES, randomEmbeddingBranch } from './fixtures.js';

describe('TypeScript reference vs ONNX graph', () => {
  let result: TrainResult;
  let pack: Pack;
  let onnx: OnnxClassifier;
  const dir = mkdtempSync(join(tmpdir(), 'sb-nlp-pack-'));
  const texts = [...intentExamples().map((e) => e.text), ...PROBES, ...Object.values(GARBAGE)];

  beforeAll(async () => {
    // Both branches and a validation split, so temperatures and the mix are all non-trivial.
    result = await train(intentExamples(), {
      featuriser: { hashBits: 16 },
      embeddingDim: 16,
      embeddingMembers: 3,
      maxEpochs: 15,
      validationFraction: 0.2,
      seed: 3,
    });
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
    // Three seeded embedding bags, merged into one branch of width 3 × 16.
    expect(result.metrics.embeddingMembers).toBe(3);
    expect(result.model.embedding!.dim).toBe(48);
    expect(result.model.mix).toBeGreaterThanOrEqual(0);
    expect(result.model.mix).toBeLessThanOrEqual(1);
  });

  it('merges embedding members into one branch whose logits are the mean of theirs', () => {
    const random = rng(11);
    const rows = 9;
    const classes = 4;
    const member = (dim: number) => randomEmbeddingBranch(random, rows, classes, dim);
    const members = [member(3), member(5), member(2)];
    const merged = mergeEmbeddings(members);
    expect(merged.dim).toBe(10);
    const ids = Int32Array.from([1, 4, 8]);
    const x = Float32Array.from([0.5, -0.25, 0.8]);
    const mergedLogits = embeddingLogits(merged, classes, embeddingHidden(merged, ids, x));
    const mean = new Float64Array(classes);
    for (const e of members) {
      const z = embeddingLogits(e, classes, embeddingHidden(e, ids, x));
      for (let k = 0; k < classes; k++) mean[k] += z[k] / members.length;
    }
    for (let k = 0; k < classes; k++) expect(mergedLogits[k]).toBeCloseTo(mean[k], 5);
  });

  it('predictMany (batches grouped by length) returns each text its own prediction, in order', async () => {
    // More than one batch of 64, with lengths from empty to long, in an order unlike their lengths.
    const many = Array.from({ length: 150 }, (_, i) => texts[(i * 7) % texts.length] + ' again'.repeat(i % 5));
    const batched = await onnx.predictMany(many);
    expect(batched).toHaveLength(many.length);
    for (let i = 0; i < many.length; i += 7) {
      const single = await onnx.predict(many[i]);
      expect(batched[i].label).toBe(single.label);
      expect(Math.abs(batched[i].confidence - single.confidence)).toBeLessThan(1e-5);
    }
  });

  it('toPrediction lists the top k by probability, ties by label order', () => {
    const p = Float32Array.from({ length: result.model.labels.length }, (_, k) => (k === 2 ? 0.5 : k === 0 || k === 4 ? 0.2 : 0.1 / 1000));
    const prediction = onnx.toPrediction(p, 3);
    const labels = result.model.labels;
    expect(prediction.label).toBe(labels[2]);
    expect(prediction.top.map((t) => t.label)).toEqual([labels[2], labels[0], labels[4]]);
    expect(onnx.toPrediction(p, 1).top).toHaveLength(1);
  });

  it('writes a valid ONNX protobuf that decodes to the same graph', () => {
    const proto = decodeModel(pack.onnx);
    expect(proto.opsetImport[0].version).toBe(13);
    expect(proto.graph.input.map((i) => i.name)).toEqual(['ids', 'values']);
    expect(proto.graph.output.map((o) => o.name)).toEqual(['probabilities']);
    // One gathered table for both branches, temperatures folded in: 19 nodes (25 before).
    expect(proto.graph.node.filter((n) => n.opType === 'Gather')).toHaveLength(3);
    expect(proto.graph.node.length).toBe(19);
  });

  it('gives the same probabilities as the TypeScript reference (single and batched)', async () => {
    expect(await maxParityDiff(result.model, onnx, texts)).toBeLessThan(1e-5);
  });

  it('exports linear-only and embedding-only models that match the reference too', async () => {
    const featuriser = new Featuriser(result.model.featuriser);
    for (const model of [
      { ...result.model, embedding: undefined },
      { ...result.model, linear: undefined },
    ]) {
      const single = await OnnxClassifier.load(
        buildPack(model, { name: 'one-branch', task: 'intent', trainingDataHash: 'sha256:x', metrics: {}, outOfScopeThreshold: 0.3, createdAt: new Date() }),
      );
      try {
        const features = texts.map((t) => featuriser.featurise(t));
        const batched = await single.runBatch(features);
        for (let i = 0; i < texts.length; i++) {
          const reference = predictProba(model, features[i]);
          for (let k = 0; k < reference.length; k++) expect(Math.abs(reference[k] - batched[i][k])).toBeLessThan(1e-5);
        }
      } finally {
        await single.close();
      }
    }
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
