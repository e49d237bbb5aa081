/**
 * The TypeScript trainer: hashed n-gram features → a regularised multinomial logistic
 * regression (sparse Adam, L2, class weights) and a fastText-style embedding bag, each with
 * early stopping on a stratified validation split, temperature-scaled confidences, an ensemble
 * weight and an out-of-scope threshold chosen on the same split, then (optionally) refitted on
 * all the data for the epochs validation chose.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_FEATURISER, Featuriser, type FeaturiserConfig } from './featuriser.js';
import {
  activateHidden,
  embeddingHidden,
  embeddingLogits,
  linearLogits,
  softmaxInPlace,
  type BagModel,
  type EmbeddingBranch,
  type LinearBranch,
} from './model.js';
import { evaluate, type EvalReport } from './metrics.js';

export interface TrainExample {
  text: string;
  label: string;
}

export type Branch = 'linear' | 'embedding';

export interface TrainOptions {
  featuriser?: Partial<FeaturiserConfig>;
  /** Which models to train; both = ensemble. Default both. */
  branches?: Branch[];
  /** Epochs of the learning-rate schedule (linear decay to 10% over them). Default 25. */
  maxEpochs?: number;
  /** Epochs without a better validation accuracy before a branch stops. Default 3. */
  patience?: number;
  /**
   * false: every branch trains for maxEpochs (the learning rate decays to 10% over them) and keeps
   * its last epoch; validation then serves only calibration. Default true (best validation epoch).
   */
  earlyStopping?: boolean;
  validationFraction?: number;
  /** Retrain on train+validation for the chosen number of epochs. Default true. */
  refit?: boolean;
  seed?: number;
  learningRate?: number;
  embeddingLearningRate?: number;
  l2?: number;
  batchSize?: number;
  embeddingDim?: number;
  /**
   * 'relu' makes the embedding branch a one-hidden-layer MLP (h = relu(Σ x·E + hb)) instead of a
   * linear bag. Default 'none'.
   */
  embeddingActivation?: 'none' | 'relu';
  /** Dropout on the embedding branch's hidden units while training. Default 0. */
  hiddenDropout?: number;
  /** Label smoothing ε of the training targets ((1 − ε) on the label, ε spread over all classes). Default 0. */
  labelSmoothing?: number;
  /**
   * Embedding bags trained with different seeds and averaged (their logits), stored as one
   * embedding branch of width members × embeddingDim. Default 1; fewer than asked when the merged
   * table would exceed 48 MB (rows × width × 4 bytes).
   */
  embeddingMembers?: number;
  classWeights?: 'balanced' | 'none';
  /** Features seen in fewer training texts than this are dropped. */
  minDf?: number;
  onProgress?: (progress: TrainProgress) => void;
  shouldStop?: () => boolean;
}

export interface TrainProgress {
  phase: 'featurising' | 'linear' | 'embedding' | 'calibrating' | 'refit' | 'done';
  percent: number;
  epoch?: number;
  loss?: number;
  validationAccuracy?: number;
  etaMs?: number;
}

export interface TrainMetrics {
  examples: number;
  classes: number;
  validationExamples: number;
  validation: EvalReport | null;
  /** Epochs per branch (for the embedding branch: the most any member used). */
  epochs: Partial<Record<Branch, number>>;
  embeddingMembers: number;
  temperatures: Partial<Record<Branch, number>>;
  mix: number;
  oosThreshold: number;
  trainingMs: number;
  rows: number;
}

export interface TrainResult {
  model: BagModel;
  metrics: TrainMetrics;
  dataHash: string;
}

export class TrainingCancelled extends Error {
  constructor() {
    super('training cancelled');
  }
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export function dataHash(examples: TrainExample[]): string {
  const hash = createHash('sha256');
  for (const line of examples.map((e) => `${e.label}\t${e.text}`).sort()) hash.update(line).update('\n');
  return `sha256:${hash.digest('hex')}`;
}

interface Encoded {
  rows: Int32Array;
  x: Float32Array;
  y: number;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const ADAM_B1 = 0.9;
const ADAM_B2 = 0.999;
const ADAM_EPS = 1e-8;

/** Adam over a parameter block, updated lazily for the rows a batch touched. */
class SparseAdam {
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly grad: Float32Array;
  private readonly mark: Uint8Array;
  readonly touched: number[] = [];
  t = 0;

  constructor(
    readonly params: Float32Array,
    readonly width: number,
  ) {
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
    this.grad = new Float32Array(params.length);
    this.mark = new Uint8Array(params.length / width);
  }

  touch(row: number): number {
    if (!this.mark[row]) {
      this.mark[row] = 1;
      this.touched.push(row);
    }
    return row * this.width;
  }

  step(lr: number, l2: number): void {
    this.t++;
    const c1 = 1 - Math.pow(ADAM_B1, this.t);
    const c2 = 1 - Math.pow(ADAM_B2, this.t);
    const { m, v, grad, params, width } = this;
    for (const row of this.touched) {
      const start = row * width;
      for (let i = start; i < start + width; i++) {
        const g = grad[i] + l2 * params[i];
        m[i] = ADAM_B1 * m[i] + (1 - ADAM_B1) * g;
        v[i] = ADAM_B2 * v[i] + (1 - ADAM_B2) * g * g;
        params[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + ADAM_EPS);
        grad[i] = 0;
      }
      this.mark[row] = 0;
    }
    this.touched.length = 0;
  }
}

interface BranchState {
  kind: Branch;
  params: LinearBranch | EmbeddingBranch;
  snapshot(): LinearBranch | EmbeddingBranch;
  /** One pass over the examples; returns the mean weighted loss. */
  epoch(order: number[], data: Encoded[], lr: number, batchCount: () => Promise<void>): Promise<number>;
  logits(item: Encoded, out: Float64Array): Float64Array;
}

type StateOptions = Required<Pick<TrainOptions, 'l2' | 'batchSize' | 'labelSmoothing'>>;

function linearState(rows: number, classes: number, weights: Float64Array, options: StateOptions): BranchState {
  const smooth = options.labelSmoothing / classes;
  const params: LinearBranch = { W: new Float32Array(rows * classes), b: new Float32Array(classes), temperature: 1 };
  const adamW = new SparseAdam(params.W, classes);
  const adamB = new SparseAdam(params.b, classes);
  const z = new Float64Array(classes);
  return {
    kind: 'linear',
    params,
    snapshot: () => ({ W: params.W.slice(), b: params.b.slice(), temperature: params.temperature }),
    logits: (item, out) => linearLogits(params, classes, item.rows, item.x, out),
    async epoch(order, data, lr, tick) {
      let loss = 0;
      let weightSum = 0;
      for (let start = 0; start < order.length; start += options.batchSize) {
        const end = Math.min(order.length, start + options.batchSize);
        const scale = 1 / (end - start);
        adamB.touch(0);
        for (let n = start; n < end; n++) {
          const item = data[order[n]];
          linearLogits(params, classes, item.rows, item.x, z);
          softmaxInPlace(z);
          const w = weights[item.y];
          loss += -w * Math.log(Math.max(z[item.y], 1e-12));
          weightSum += w;
          z[item.y] -= 1 - options.labelSmoothing;
          for (let k = 0; k < classes; k++) z[k] = (z[k] - smooth) * w * scale;
          for (let k = 0; k < classes; k++) adamB.grad[k] += z[k];
          for (let i = 0; i < item.rows.length; i++) {
            const row = item.rows[i];
            if (row === 0) continue;
            const offset = adamW.touch(row);
            const xi = item.x[i];
            for (let k = 0; k < classes; k++) adamW.grad[offset + k] += xi * z[k];
          }
        }
        adamW.step(lr, options.l2);
        adamB.step(lr, 0);
        await tick();
      }
      return loss / Math.max(weightSum, 1e-12);
    },
  };
}

function embeddingState(
  rows: number,
  classes: number,
  dim: number,
  weights: Float64Array,
  random: () => number,
  options: StateOptions & { relu: boolean; dropout: number },
): BranchState {
  const params: EmbeddingBranch = {
    dim,
    E: new Float32Array(rows * dim),
    V: new Float32Array(dim * classes),
    c: new Float32Array(classes),
    temperature: 1,
    ...(options.relu ? { hb: new Float32Array(dim) } : {}),
  };
  const smooth = options.labelSmoothing / classes;
  const keep = 1 - options.dropout;
  const mask = new Float64Array(dim).fill(1);
  const scaleE = 1 / Math.sqrt(dim);
  for (let i = dim; i < params.E.length; i++) params.E[i] = (random() * 2 - 1) * scaleE;
  for (let i = 0; i < params.V.length; i++) params.V[i] = (random() * 2 - 1) * 0.01;
  const adamE = new SparseAdam(params.E, dim);
  const adamV = new SparseAdam(params.V, classes);
  const adamC = new SparseAdam(params.c, classes);
  const adamH = params.hb ? new SparseAdam(params.hb, dim) : null;
  const z = new Float64Array(classes);
  const h = new Float64Array(dim);
  const dh = new Float64Array(dim);
  return {
    kind: 'embedding',
    params,
    snapshot: () => ({
      dim,
      E: params.E.slice(),
      V: params.V.slice(),
      c: params.c.slice(),
      temperature: params.temperature,
      ...(params.hb ? { hb: params.hb.slice() } : {}),
    }),
    logits: (item, out) => embeddingLogits(params, classes, activateHidden(params, embeddingHidden(params, item.rows, item.x, h)), out),
    async epoch(order, data, lr, tick) {
      let loss = 0;
      let weightSum = 0;
      for (let start = 0; start < order.length; start += options.batchSize) {
        const end = Math.min(order.length, start + options.batchSize);
        const scale = 1 / (end - start);
        adamC.touch(0);
        adamH?.touch(0);
        for (let j = 0; j < dim; j++) adamV.touch(j);
        for (let n = start; n < end; n++) {
          const item = data[order[n]];
          activateHidden(params, embeddingHidden(params, item.rows, item.x, h));
          if (keep < 1) for (let j = 0; j < dim; j++) h[j] *= mask[j] = random() < keep ? 1 / keep : 0;
          embeddingLogits(params, classes, h, z);
          softmaxInPlace(z);
          const w = weights[item.y];
          loss += -w * Math.log(Math.max(z[item.y], 1e-12));
          weightSum += w;
          z[item.y] -= 1 - options.labelSmoothing;
          for (let k = 0; k < classes; k++) {
            z[k] = (z[k] - smooth) * w * scale;
            adamC.grad[k] += z[k];
          }
          for (let j = 0; j < dim; j++) {
            const offset = j * classes;
            let acc = 0;
            const hj = h[j];
            for (let k = 0; k < classes; k++) {
              adamV.grad[offset + k] += hj * z[k];
              acc += params.V[offset + k] * z[k];
            }
            // Through dropout and the relu (h is 0 exactly where either cut the unit).
            let g = keep < 1 ? acc * mask[j] : acc;
            if (adamH && !(hj > 0)) g = 0;
            dh[j] = g;
            if (adamH) adamH.grad[j] += dh[j];
          }
          for (let i = 0; i < item.rows.length; i++) {
            const row = item.rows[i];
            if (row === 0) continue;
            const offset = adamE.touch(row);
            const xi = item.x[i];
            for (let j = 0; j < dim; j++) adamE.grad[offset + j] += xi * dh[j];
          }
        }
        adamE.step(lr, options.l2);
        adamV.step(lr, options.l2);
        adamC.step(lr, 0);
        adamH?.step(lr, 0);
        await tick();
      }
      return loss / Math.max(weightSum, 1e-12);
    },
  };
}

function stratifiedSplit(labels: number[], fraction: number, random: () => number): { train: number[]; validation: number[] } {
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => byClass.set(y, [...(byClass.get(y) ?? []), i]));
  const train: number[] = [];
  const validation: number[] = [];
  for (const indices of byClass.values()) {
    shuffle(indices, random);
    // A class with fewer than 3 examples stays entirely in training.
    const take = indices.length >= 3 ? Math.max(1, Math.round(indices.length * fraction)) : 0;
    validation.push(...indices.slice(0, take));
    train.push(...indices.slice(take));
  }
  return { train, validation };
}

/** Temperature minimising the validation negative log-likelihood (golden-section on log T). */
function fitTemperature(logits: Float64Array[], ys: number[]): number {
  if (!logits.length) return 1;
  const nll = (logT: number): number => {
    const inv = Math.exp(-logT);
    let total = 0;
    for (let n = 0; n < logits.length; n++) {
      const z = Float64Array.from(logits[n]);
      softmaxInPlace(z, inv);
      total -= Math.log(Math.max(z[ys[n]], 1e-12));
    }
    return total;
  };
  let lo = Math.log(0.02);
  let hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 40; i++) {
    const a = hi - phi * (hi - lo);
    const b = lo + phi * (hi - lo);
    if (nll(a) < nll(b)) hi = b;
    else lo = a;
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Out-of-scope threshold: the confidence that maximises "answer when right, abstain when wrong"
 * on validation data, bounded to [0.05, 0.9]. Operators can override it per model.
 */
export function chooseThreshold(confidences: number[], correct: boolean[]): number {
  const order = confidences.map((c, i) => [c, correct[i]] as const).sort((a, b) => a[0] - b[0]);
  let best = 0;
  let bestScore = order.filter(([, ok]) => ok).length;
  let score = bestScore;
  for (let i = 0; i < order.length; i++) {
    score += order[i][1] ? -1 : 1;
    if (score > bestScore) {
      bestScore = score;
      best = i + 1 < order.length ? (order[i][0] + order[i + 1][0]) / 2 : order[i][0];
    }
  }
  return Math.min(0.9, Math.max(0.05, best));
}

export async function train(examples: TrainExample[], options: TrainOptions = {}): Promise<TrainResult> {
  const started = Date.now();
  const opts = {
    branches: options.branches ?? (['linear', 'embedding'] as Branch[]),
    maxEpochs: options.maxEpochs ?? 25,
    patience: options.patience ?? 3,
    earlyStopping: options.earlyStopping ?? true,
    validationFraction: options.validationFraction ?? 0.1,
    refit: options.refit ?? true,
    seed: options.seed ?? 42,
    learningRate: options.learningRate ?? 0.005,
    embeddingLearningRate: options.embeddingLearningRate ?? 0.005,
    l2: options.l2 ?? 1e-5,
    batchSize: options.batchSize ?? 32,
    embeddingDim: options.embeddingDim ?? 64,
    embeddingActivation: options.embeddingActivation ?? 'none',
    hiddenDropout: options.hiddenDropout ?? 0,
    labelSmoothing: options.labelSmoothing ?? 0,
    embeddingMembers: options.embeddingMembers,
    classWeights: options.classWeights ?? 'balanced',
    minDf: options.minDf ?? 1,
  };
  if (!opts.branches.length) throw new Error('at least one branch is needed');
  const clean = examples.filter((e) => typeof e.text === 'string' && typeof e.label === 'string' && e.label.trim() !== '');
  if (clean.length < 2) throw new Error('need at least 2 labelled examples');
  const labels = [...new Set(clean.map((e) => e.label.trim()))].sort();
  if (labels.length < 2) throw new Error('need at least 2 distinct labels');
  const labelIndex = new Map(labels.map((label, i) => [label, i]));
  const classes = labels.length;
  const featuriserConfig: FeaturiserConfig = { ...DEFAULT_FEATURISER, ...options.featuriser };
  let featuriser = new Featuriser(featuriserConfig);
  const random = rng(opts.seed);

  let lastReport = 0;
  const report = (progress: TrainProgress): void => {
    if (!options.onProgress) return;
    const now = Date.now();
    if (progress.phase !== 'done' && now - lastReport < 200 && progress.epoch === undefined) return;
    lastReport = now;
    const elapsed = now - started;
    const etaMs = progress.percent > 1 ? Math.round((elapsed * (100 - progress.percent)) / progress.percent) : undefined;
    options.onProgress({ ...progress, percent: Math.round(progress.percent * 10) / 10, etaMs: progress.etaMs ?? etaMs });
  };
  const checkStop = (): void => {
    if (options.shouldStop?.()) throw new TrainingCancelled();
  };

  // 1. Featurise, keep buckets seen in ≥ minDf texts, compute idf.
  const featureCounts: Array<{ ids: Int32Array; values: Float32Array }> = [];
  const df = new Map<number, number>();
  for (let i = 0; i < clean.length; i++) {
    const features = featuriser.featurise(clean[i].text);
    featureCounts.push(features);
    for (const id of features.ids) df.set(id, (df.get(id) ?? 0) + 1);
    if (i % 500 === 0) {
      report({ phase: 'featurising', percent: (5 * i) / clean.length });
      checkStop();
      await yieldToLoop();
    }
  }
  // Small data needs no 2^20-bucket table (4 MB in the pack): unless hashBits was given, shrink the
  // space to ~16 buckets per distinct feature and featurise again with that configuration.
  const fittedBits = Math.min(featuriserConfig.hashBits, Math.max(12, Math.ceil(Math.log2(Math.max(1, df.size) * 16))));
  if (options.featuriser?.hashBits === undefined && fittedBits < featuriserConfig.hashBits) {
    featuriserConfig.hashBits = fittedBits;
    featuriser = new Featuriser(featuriserConfig);
    df.clear();
    for (let i = 0; i < clean.length; i++) {
      const features = featuriser.featurise(clean[i].text);
      featureCounts[i] = features;
      for (const id of features.ids) df.set(id, (df.get(id) ?? 0) + 1);
      if (i % 500 === 0) await yieldToLoop();
    }
  }
  const remap = new Int32Array(1 << featuriserConfig.hashBits);
  const kept = [...df.entries()].filter(([, count]) => count >= opts.minDf).sort((a, b) => a[0] - b[0]);
  const rows = kept.length + 1;
  const idf = new Float32Array(rows);
  kept.forEach(([bucket, count], i) => {
    remap[bucket] = i + 1;
    idf[i + 1] = Math.log((1 + clean.length) / (1 + count)) + 1;
  });
  const encode = (features: { ids: Int32Array; values: Float32Array }, y: number): Encoded => {
    const r = new Int32Array(features.ids.length);
    const x = new Float32Array(features.ids.length);
    let ss = 0;
    for (let i = 0; i < features.ids.length; i++) {
      r[i] = remap[features.ids[i]];
      x[i] = features.values[i] * idf[r[i]];
      ss += x[i] * x[i];
    }
    const norm = Math.max(Math.sqrt(ss), 1e-6);
    for (let i = 0; i < x.length; i++) x[i] /= norm;
    return { rows: r, x, y };
  };
  const data = featureCounts.map((features, i) => encode(features, labelIndex.get(clean[i].label.trim())!));

  const counts = new Float64Array(classes);
  for (const item of data) counts[item.y]++;
  const weights = new Float64Array(classes).fill(1);
  if (opts.classWeights === 'balanced') for (let k = 0; k < classes; k++) weights[k] = data.length / (classes * counts[k]);

  const split = stratifiedSplit(
    data.map((d) => d.y),
    opts.validationFraction,
    random,
  );
  const hasValidation = split.validation.length > 0;
  const trainIdx = hasValidation ? split.train : data.map((_, i) => i);

  // Budget for percent/ETA: each branch may use maxEpochs over train, plus refit.
  const memberBudget = Math.floor((48 * 2 ** 20) / (rows * opts.embeddingDim * 4));
  const members = Math.max(1, Math.min(8, opts.embeddingMembers ?? 1, memberBudget));
  const branchWeight = { linear: 1, embedding: (0.6 * (opts.embeddingDim / classes) + 0.3) * members };
  const totalWork = opts.branches.reduce((sum, b) => sum + branchWeight[b] * opts.maxEpochs * trainIdx.length, 0) * (opts.refit && hasValidation ? 1.6 : 1);
  let doneWork = 0;
  const workPercent = (): number => 5 + 90 * Math.min(1, doneWork / totalWork);

  const makeState = (branch: Branch, member: number): BranchState =>
    branch === 'linear'
      ? linearState(rows, classes, weights, { l2: opts.l2, batchSize: opts.batchSize, labelSmoothing: opts.labelSmoothing })
      : embeddingState(rows, classes, opts.embeddingDim, weights, rng(opts.seed + 7 + 1000 * member), {
          l2: opts.l2,
          batchSize: opts.batchSize,
          labelSmoothing: opts.labelSmoothing,
          relu: opts.embeddingActivation === 'relu',
          dropout: opts.hiddenDropout,
        });
  const lrOf = (branch: Branch, epoch: number, total: number): number => {
    const base = branch === 'linear' ? opts.learningRate : opts.embeddingLearningRate;
    // Linear decay to 10% over the epoch budget.
    return base * (1 - (0.9 * epoch) / Math.max(1, total));
  };

  const validationAccuracy = (state: BranchState): { accuracy: number; loss: number } => {
    const z = new Float64Array(classes);
    let correct = 0;
    let loss = 0;
    for (const index of split.validation) {
      const item = data[index];
      state.logits(item, z);
      softmaxInPlace(z);
      let arg = 0;
      for (let k = 1; k < classes; k++) if (z[k] > z[arg]) arg = k;
      if (arg === item.y) correct++;
      loss -= Math.log(Math.max(z[item.y], 1e-12));
    }
    return { accuracy: correct / Math.max(1, split.validation.length), loss: loss / Math.max(1, split.validation.length) };
  };

  const runBranch = async (branch: Branch, indices: number[], fixedEpochs?: number, phase: TrainProgress['phase'] = branch, member = 0) => {
    const state = makeState(branch, member);
    // Each member sees its own shuffling order.
    const orderRandom = member === 0 ? random : rng(opts.seed + 31 * member);
    let best = { accuracy: -1, loss: Infinity, epoch: 0, params: state.snapshot() };
    let stale = 0;
    const epochs = fixedEpochs ?? opts.maxEpochs;
    let batches = 0;
    const tick = async (): Promise<void> => {
      doneWork += (branchWeight[branch] * opts.batchSize) / (branch === 'embedding' ? members : 1);
      if (++batches % 50 === 0) {
        report({ phase, percent: workPercent() });
        checkStop();
        await yieldToLoop();
      }
    };
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = shuffle([...indices], orderRandom);
      const loss = await state.epoch(order, data, lrOf(branch, epoch, opts.maxEpochs), tick);
      if (fixedEpochs !== undefined || !hasValidation || !opts.earlyStopping) {
        report({ phase, percent: workPercent(), epoch: epoch + 1, loss });
        best = { accuracy: 0, loss, epoch: epoch + 1, params: state.params };
        continue;
      }
      const v = validationAccuracy(state);
      report({ phase, percent: workPercent(), epoch: epoch + 1, loss, validationAccuracy: v.accuracy });
      if (v.accuracy > best.accuracy || (v.accuracy === best.accuracy && v.loss < best.loss)) {
        best = { accuracy: v.accuracy, loss: v.loss, epoch: epoch + 1, params: state.snapshot() };
        stale = 0;
      } else if (++stale >= opts.patience) {
        doneWork += ((branchWeight[branch] * indices.length) / (branch === 'embedding' ? members : 1)) * (epochs - epoch - 1);
        break;
      }
    }
    return { state, best };
  };

  const fitted: Partial<Record<Branch, { params: LinearBranch | EmbeddingBranch; epochs: number[] }>> = {};
  for (const branch of opts.branches) {
    const count = branch === 'embedding' ? members : 1;
    const runs: Array<{ params: LinearBranch | EmbeddingBranch; epoch: number }> = [];
    for (let member = 0; member < count; member++) runs.push((await runBranch(branch, trainIdx, undefined, branch, member)).best);
    fitted[branch] = {
      params: branch === 'embedding' ? mergeEmbeddings(runs.map((r) => r.params as EmbeddingBranch)) : runs[0].params,
      epochs: runs.map((r) => r.epoch),
    };
  }

  // Calibrate on validation: temperature per branch, then the ensemble weight, then the OOS threshold.
  report({ phase: 'calibrating', percent: workPercent() });
  const temperatures: Partial<Record<Branch, number>> = {};
  const valProbs: Partial<Record<Branch, Float64Array[]>> = {};
  const ys = split.validation.map((i) => data[i].y);
  const model: BagModel = { labels, featuriser: featuriserConfig, remap, rows, idf, mix: 1 };
  for (const branch of opts.branches) {
    const params = fitted[branch]!.params;
    const state = { logits: (item: Encoded, out: Float64Array) => logitsOf(branch, params, classes, item, out) };
    const logits = split.validation.map((i) => state.logits(data[i], new Float64Array(classes)));
    const temperature = hasValidation ? fitTemperature(logits, ys) : 1;
    temperatures[branch] = temperature;
    valProbs[branch] = logits.map((z) => {
      const p = Float64Array.from(z);
      softmaxInPlace(p, 1 / temperature);
      return p;
    });
  }
  // The ensemble weight minimises the validation log-loss (a 0.05 grid). Log-loss is smoother than
  // accuracy on a few hundred validation texts, where a handful of flips decided the weight.
  let mix = opts.branches.includes('linear') ? 1 : 0;
  if (opts.branches.length === 2 && hasValidation) {
    let bestNll = Infinity;
    for (let step = 0; step <= 20; step++) {
      const m = step / 20;
      let nll = 0;
      for (let n = 0; n < ys.length; n++) {
        nll -= Math.log(Math.max(m * valProbs.linear![n][ys[n]] + (1 - m) * valProbs.embedding![n][ys[n]], 1e-12));
      }
      if (nll < bestNll - 1e-9) {
        bestNll = nll;
        mix = m;
      }
    }
  }
  let validation: EvalReport | null = null;
  let oosThreshold = 0.3;
  if (hasValidation) {
    const predictions = ys.map((_, n) => {
      const p = new Float64Array(classes);
      for (const branch of opts.branches) {
        const w = opts.branches.length === 2 ? (branch === 'linear' ? mix : 1 - mix) : 1;
        for (let k = 0; k < classes; k++) p[k] += w * valProbs[branch]![n][k];
      }
      let arg = 0;
      for (let k = 1; k < classes; k++) if (p[k] > p[arg]) arg = k;
      return { arg, confidence: p[arg] };
    });
    validation = evaluate(
      ys.map((y) => labels[y]),
      predictions.map((p) => labels[p.arg]),
    );
    oosThreshold = chooseThreshold(
      predictions.map((p) => p.confidence),
      predictions.map((p, n) => p.arg === ys[n]),
    );
  }

  // Refit on everything for the chosen number of epochs.
  const epochsUsed: Partial<Record<Branch, number>> = {};
  for (const branch of opts.branches) {
    let params = fitted[branch]!.params;
    const epochs = fitted[branch]!.epochs;
    epochsUsed[branch] = Math.max(...epochs);
    if (opts.refit && hasValidation) {
      const all = data.map((_, i) => i);
      const refitted: Array<LinearBranch | EmbeddingBranch> = [];
      for (let member = 0; member < epochs.length; member++) {
        refitted.push((await runBranch(branch, all, Math.max(1, epochs[member]), 'refit', member)).best.params);
      }
      params = branch === 'embedding' ? mergeEmbeddings(refitted as EmbeddingBranch[]) : refitted[0];
    }
    params.temperature = temperatures[branch] ?? 1;
    if (branch === 'linear') model.linear = params as LinearBranch;
    else model.embedding = params as EmbeddingBranch;
  }
  model.mix = mix;
  const metrics: TrainMetrics = {
    examples: data.length,
    classes,
    validationExamples: split.validation.length,
    validation,
    epochs: epochsUsed,
    embeddingMembers: opts.branches.includes('embedding') ? members : 0,
    temperatures,
    mix,
    oosThreshold,
    trainingMs: Date.now() - started,
    rows,
  };
  report({ phase: 'done', percent: 100, etaMs: 0 });
  return { model, metrics, dataHash: dataHash(clean) };
}

function logitsOf(branch: Branch, params: LinearBranch | EmbeddingBranch, classes: number, item: Encoded, out: Float64Array): Float64Array {
  if (branch === 'linear') return linearLogits(params as LinearBranch, classes, item.rows, item.x, out);
  const e = params as EmbeddingBranch;
  return embeddingLogits(e, classes, activateHidden(e, embeddingHidden(e, item.rows, item.x)), out);
}

/**
 * Several embedding bags as one: the mean of their logits is one embedding branch whose table is
 * the members' tables side by side and whose output layer is their output layers stacked (÷ m).
 */
export function mergeEmbeddings(members: EmbeddingBranch[]): EmbeddingBranch {
  if (members.length === 1) return members[0];
  const m = members.length;
  const classes = members[0].c.length;
  const rows = members[0].E.length / members[0].dim;
  const dim = members.reduce((sum, e) => sum + e.dim, 0);
  const E = new Float32Array(rows * dim);
  const V = new Float32Array(dim * classes);
  const c = new Float32Array(classes);
  const relu = members.every((e) => e.hb);
  if (!relu && members.some((e) => e.hb)) throw new Error('cannot merge relu and linear embedding members');
  const hb = relu ? new Float32Array(dim) : undefined;
  let column = 0;
  for (const e of members) {
    if (hb) hb.set(e.hb!, column);
    for (let r = 0; r < rows; r++) E.set(e.E.subarray(r * e.dim, (r + 1) * e.dim), r * dim + column);
    for (let j = 0; j < e.dim; j++) for (let k = 0; k < classes; k++) V[(column + j) * classes + k] = e.V[j * classes + k] / m;
    for (let k = 0; k < classes; k++) c[k] += e.c[k] / m;
    column += e.dim;
  }
  return { dim, E, V, c, temperature: 1, ...(hb ? { hb } : {}) };
}
