/**
 * The bag-of-hashed-features classifier: the TypeScript reference that the ONNX graph
 * (onnx/export.ts) reproduces exactly.
 *
 *   rows = remap[ids]                  bucket → compact row (0 = unknown, all-zero weights)
 *   x    = l2normalise(values · idf[rows])
 *   p_lin = softmax((Σ x·W[rows] + b) / T_lin)                      linear branch
 *   p_emb = softmax((h · V + c) / T_emb), h = Σ x·E[rows]             embedding-bag branch
 *                         (or h = relu(Σ x·E[rows] + hb): an MLP head)
 *   p    = mix · p_lin + (1 − mix) · p_emb
 */
import type { FeaturiserConfig, SparseFeatures } from './featuriser.js';

export interface LinearBranch {
  /** rows × classes, row-major. */
  W: Float32Array;
  b: Float32Array;
  temperature: number;
}

export interface EmbeddingBranch {
  dim: number;
  /** rows × dim. */
  E: Float32Array;
  /**
   * With a hidden bias the branch is a one-hidden-layer MLP: h = relu(Σ x·E[rows] + hb). Without
   * it, h = Σ x·E[rows] (the fastText-style bag).
   */
  hb?: Float32Array;
  /** dim × classes. */
  V: Float32Array;
  c: Float32Array;
  temperature: number;
}

export interface BagModel {
  labels: string[];
  featuriser: FeaturiserConfig;
  /** length 2^hashBits; bucket → row. */
  remap: Int32Array;
  rows: number;
  /** per row; idf[0] = 0. */
  idf: Float32Array;
  linear?: LinearBranch;
  embedding?: EmbeddingBranch;
  /** Weight of the linear branch when both exist. */
  mix: number;
}

export const NORM_EPS = 1e-6;

/** Compact rows and their L2-normalised tf-idf weights for one text. */
export function weighRows(model: Pick<BagModel, 'remap' | 'idf'>, features: SparseFeatures): { rows: Int32Array; x: Float32Array } {
  const n = features.ids.length;
  const rows = new Int32Array(n);
  const x = new Float32Array(n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const row = model.remap[features.ids[i]];
    rows[i] = row;
    const v = features.values[i] * model.idf[row];
    x[i] = v;
    ss += v * v;
  }
  const norm = Math.max(Math.sqrt(ss), NORM_EPS);
  for (let i = 0; i < n; i++) x[i] /= norm;
  return { rows, x };
}

export function softmaxInPlace(z: Float64Array | Float32Array, inverseTemperature = 1): void {
  let max = -Infinity;
  for (let k = 0; k < z.length; k++) {
    z[k] *= inverseTemperature;
    if (z[k] > max) max = z[k];
  }
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    z[k] = Math.exp(z[k] - max);
    sum += z[k];
  }
  for (let k = 0; k < z.length; k++) z[k] /= sum;
}

export function linearLogits(
  branch: Pick<LinearBranch, 'W' | 'b'>,
  classes: number,
  rows: Int32Array,
  x: Float32Array,
  out: Float64Array = new Float64Array(classes),
): Float64Array {
  for (let k = 0; k < classes; k++) out[k] = branch.b[k];
  for (let i = 0; i < rows.length; i++) {
    const xi = x[i];
    if (xi === 0 || rows[i] === 0) continue;
    const offset = rows[i] * classes;
    for (let k = 0; k < classes; k++) out[k] += xi * branch.W[offset + k];
  }
  return out;
}

export function embeddingHidden(
  branch: Pick<EmbeddingBranch, 'E' | 'dim'>,
  rows: Int32Array,
  x: Float32Array,
  out: Float64Array = new Float64Array(branch.dim),
): Float64Array {
  out.fill(0);
  const d = branch.dim;
  for (let i = 0; i < rows.length; i++) {
    const xi = x[i];
    if (xi === 0 || rows[i] === 0) continue;
    const offset = rows[i] * d;
    for (let j = 0; j < d; j++) out[j] += xi * branch.E[offset + j];
  }
  return out;
}

/** The hidden layer's activation, in place: + hb then relu when the branch has a hidden bias. */
export function activateHidden(branch: Pick<EmbeddingBranch, 'hb' | 'dim'>, hidden: Float64Array): Float64Array {
  const hb = branch.hb;
  if (!hb) return hidden;
  for (let j = 0; j < branch.dim; j++) {
    const v = hidden[j] + hb[j];
    hidden[j] = v > 0 ? v : 0;
  }
  return hidden;
}

export function embeddingLogits(
  branch: Pick<EmbeddingBranch, 'V' | 'c' | 'dim'>,
  classes: number,
  hidden: Float64Array,
  out: Float64Array = new Float64Array(classes),
): Float64Array {
  for (let k = 0; k < classes; k++) out[k] = branch.c[k];
  for (let j = 0; j < branch.dim; j++) {
    const hj = hidden[j];
    if (hj === 0) continue;
    const offset = j * classes;
    for (let k = 0; k < classes; k++) out[k] += hj * branch.V[offset + k];
  }
  return out;
}

/** Probabilities for one featurised text: the reference the ONNX graph must match. */
export function predictProba(model: BagModel, features: SparseFeatures): Float64Array {
  const classes = model.labels.length;
  const { rows, x } = weighRows(model, features);
  const result = new Float64Array(classes);
  if (model.linear) {
    const z = linearLogits(model.linear, classes, rows, x);
    softmaxInPlace(z, 1 / model.linear.temperature);
    const w = model.embedding ? model.mix : 1;
    for (let k = 0; k < classes; k++) result[k] += w * z[k];
  }
  if (model.embedding) {
    const z = embeddingLogits(model.embedding, classes, activateHidden(model.embedding, embeddingHidden(model.embedding, rows, x)));
    softmaxInPlace(z, 1 / model.embedding.temperature);
    const w = model.linear ? 1 - model.mix : 1;
    for (let k = 0; k < classes; k++) result[k] += w * z[k];
  }
  return result;
}
