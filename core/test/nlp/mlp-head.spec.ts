/**
 * The opt-in training variants added for issue 7: the MLP head (embeddingActivation 'relu', a
 * hidden bias + Relu in the graph), label smoothing and the fixed schedule without early stopping.
 * The default graph is covered by onnx-parity.spec.ts; this checks that the relu graph matches the
 * TypeScript reference too, and that it survives a save → load round trip.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { train, mergeEmbeddings, rng, type TrainResult } from '../../src/nlp/trainer.js';
import { Featuriser } from '../../src/nlp/featuriser.js';
import { activateHidden, embeddingHidden, embeddingLogits, predictProba, type EmbeddingBranch } from '../../src/nlp/model.js';
import { buildPack, referenceModel, type Pack } from '../../src/nlp/pack.js';
import { OnnxClassifier } from '../../src/nlp/runtime.js';
import { decodeModel } from '../../src/nlp/onnx/onnx-schema.js';
import { GARBAGE, intentExamples, maxParityDiff, PROBES, randomEmbeddingBranch } from './fixtures.js';

const packOf = (result: TrainResult): Pack =>
  buildPack(result.model, {
    name: 'mlp-test',
    task: 'intent',
    trainingDataHash: result.dataHash,
    metrics: result.metrics,
    outOfScopeThreshold: result.metrics.oosThreshold,
    createdAt: new Date('2026-01-01T00:00:00Z'),
  });

describe('MLP head (embeddingActivation relu)', () => {
  let result: TrainResult;
  let pack: Pack;
  let onnx: OnnxClassifier;
  const texts = [...intentExamples().map((e) => e.text), ...PROBES, ...Object.values(GARBAGE)];

  beforeAll(async () => {
    result = await train(intentExamples(), {
      featuriser: { hashBits: 16 },
      embeddingDim: 16,
      embeddingMembers: 2,
      embeddingActivation: 'relu',
      hiddenDropout: 0.1,
      labelSmoothing: 0.05,
      maxEpochs: 15,
      validationFraction: 0.2,
      seed: 5,
    });
    pack = packOf(result);
    onnx = await OnnxClassifier.load(pack);
  });

  afterAll(async () => {
    await onnx?.close();
  });

  it('trains a hidden bias per unit, members side by side', () => {
    expect(result.model.embedding!.dim).toBe(32);
    expect(result.model.embedding!.hb).toHaveLength(32);
    const proto = decodeModel(pack.onnx);
    expect(proto.graph.node.filter((n) => n.opType === 'Relu')).toHaveLength(1);
    expect(proto.graph.node.length).toBe(21);
  });

  it('gives the same probabilities as the TypeScript reference (single and batched)', async () => {
    expect(await maxParityDiff(result.model, onnx, texts)).toBeLessThan(1e-5);
  });

  it('reads the relu graph back into the same reference model', () => {
    const reference = referenceModel(pack);
    expect(reference.embedding!.hb).toBeDefined();
    const featuriser = new Featuriser(reference.featuriser);
    for (const text of PROBES) {
      const a = predictProba(reference, featuriser.featurise(text));
      const b = predictProba(result.model, featuriser.featurise(text));
      for (let k = 0; k < a.length; k++) expect(Math.abs(a[k] - b[k])).toBeLessThan(1e-6);
    }
  });

  it('merges relu members into one branch whose logits are the mean of theirs', () => {
    const random = rng(13);
    const rows = 7;
    const classes = 3;
    const member = (dim: number) => randomEmbeddingBranch(random, rows, classes, dim, true);
    const members = [member(4), member(2)];
    const merged = mergeEmbeddings(members);
    const ids = Int32Array.from([1, 3, 6]);
    const x = Float32Array.from([0.6, -0.3, 0.7]);
    const logits = (e: EmbeddingBranch) => embeddingLogits(e, classes, activateHidden(e, embeddingHidden(e, ids, x)));
    const mergedLogits = logits(merged);
    for (let k = 0; k < classes; k++) expect(mergedLogits[k]).toBeCloseTo((logits(members[0])[k] + logits(members[1])[k]) / 2, 5);
    expect(() => mergeEmbeddings([members[0], { ...members[1], hb: undefined }])).toThrow();
  });

  it('learns the fixtures', async () => {
    const predictions = await onnx.predictMany(intentExamples().map((e) => e.text));
    const correct = predictions.filter((p, i) => p.label === intentExamples()[i].label).length;
    expect(correct / predictions.length).toBeGreaterThan(0.9);
  });
});

describe('schedule without early stopping', () => {
  it('trains every branch for maxEpochs and keeps the last epoch', async () => {
    const result = await train(intentExamples(), {
      featuriser: { hashBits: 14 },
      embeddingDim: 8,
      earlyStopping: false,
      maxEpochs: 6,
      validationFraction: 0.2,
      seed: 9,
    });
    expect(result.metrics.epochs).toEqual({ linear: 6, embedding: 6 });
    expect(result.metrics.validation!.accuracy).toBeGreaterThan(0.5);
  });
});
