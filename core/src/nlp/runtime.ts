/**
 * Serving a model pack with onnxruntime-node: one InferenceSession per pack, single-threaded,
 * with requests that arrive in the same tick batched into one run.
 */
import { endianness } from 'node:os';
import * as ort from 'onnxruntime-node';
import { Featuriser, type SparseFeatures } from './featuriser.js';
import { WordPieceTokenizer } from './wordpiece.js';
import type { HashedIo, Pack, PackManifest, TokenIo } from './pack.js';

export interface Prediction {
  label: string;
  confidence: number;
  /** Top labels with probabilities, best first. */
  top: Array<{ label: string; p: number }>;
}

const MAX_BATCH = 64;
const LITTLE_ENDIAN = endianness() === 'LE';

export class OnnxClassifier {
  /** Hashed n-grams (this trainer's packs) or word pieces (transformer packs); both give ids + values. */
  private readonly featuriser: Featuriser | WordPieceTokenizer;
  private queue: Array<{ features: SparseFeatures; resolve: (p: Float32Array) => void; reject: (e: Error) => void }> = [];
  private scheduled = false;
  private inflight = 0;
  private released = false;

  private constructor(
    readonly manifest: PackManifest,
    private readonly session: ort.InferenceSession,
  ) {
    this.featuriser = manifest.featuriser.kind === 'wordpiece' ? new WordPieceTokenizer(manifest.featuriser) : new Featuriser(manifest.featuriser);
  }

  static async load(pack: Pack): Promise<OnnxClassifier> {
    const session = await ort.InferenceSession.create(pack.onnx, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const { io } = pack.manifest;
    const output = isTokenIo(io) ? io.output : io.probabilities;
    const inputs = isTokenIo(io) ? [io.inputIds, io.attentionMask, ...(io.tokenTypeIds ? [io.tokenTypeIds] : [])] : [io.ids, io.values];
    if (!session.outputNames.includes(output)) throw new Error(`model.onnx has no output "${output}"`);
    for (const input of inputs) {
      if (!session.inputNames.includes(input)) throw new Error(`model.onnx has no input "${input}"`);
    }
    // A transformer graph may want inputs this pack does not feed (e.g. token_type_ids): refuse at registration, not per message.
    const missing = session.inputNames.filter((name) => !inputs.includes(name));
    if (missing.length) throw new Error(`model.onnx wants inputs the manifest's io does not name: ${missing.join(', ')}`);
    return new OnnxClassifier(pack.manifest, session);
  }

  get labels(): string[] {
    return this.manifest.labels;
  }

  featurise(text: string): SparseFeatures {
    return this.featuriser.featurise(text);
  }

  /** Probabilities for many featurised texts in one run. */
  async runBatch(batch: SparseFeatures[]): Promise<Float32Array[]> {
    if (this.released) throw new Error('model session is released');
    const n = batch.length;
    if (!n) return [];
    let width = 1;
    for (const f of batch) if (f.ids.length > width) width = f.ids.length;
    const { io } = this.manifest;
    if (isTokenIo(io)) return this.runTokens(io, batch, width);
    const ids = new BigInt64Array(n * width);
    const values = new Float32Array(n * width);
    // Bucket ids are non-negative int32: on a little-endian host, write the low words directly
    // (no BigInt per id); the high words stay 0.
    const low = LITTLE_ENDIAN ? new Int32Array(ids.buffer) : null;
    for (let r = 0; r < n; r++) {
      const f = batch[r];
      const offset = r * width;
      values.set(f.values, offset);
      if (low) for (let i = 0; i < f.ids.length; i++) low[2 * (offset + i)] = f.ids[i];
      else for (let i = 0; i < f.ids.length; i++) ids[offset + i] = BigInt(f.ids[i]);
    }
    return this.run(
      {
        [io.ids]: new ort.Tensor('int64', ids, [n, width]),
        [io.values]: new ort.Tensor('float32', values, [n, width]),
      },
      io.probabilities,
      n,
      false,
    );
  }

  /** A transformer pack: word-piece ids padded with [PAD], the attention mask, and segment ids of 0 when asked for. */
  private runTokens(io: TokenIo, batch: SparseFeatures[], width: number): Promise<Float32Array[]> {
    const n = batch.length;
    const pad = BigInt((this.featuriser as WordPieceTokenizer).pad);
    const ids = new BigInt64Array(n * width).fill(pad);
    const mask = new BigInt64Array(n * width);
    for (let r = 0; r < n; r++) {
      const tokens = batch[r].ids;
      for (let i = 0; i < tokens.length; i++) {
        ids[r * width + i] = BigInt(tokens[i]);
        mask[r * width + i] = 1n;
      }
    }
    const feeds: Record<string, ort.Tensor> = {
      [io.inputIds]: new ort.Tensor('int64', ids, [n, width]),
      [io.attentionMask]: new ort.Tensor('int64', mask, [n, width]),
    };
    if (io.tokenTypeIds) feeds[io.tokenTypeIds] = new ort.Tensor('int64', new BigInt64Array(n * width), [n, width]);
    return this.run(feeds, io.output, n, io.outputIsLogits);
  }

  private async run(feeds: Record<string, ort.Tensor>, output: string, n: number, logits: boolean): Promise<Float32Array[]> {
    this.inflight++;
    try {
      const out = await this.session.run(feeds);
      const data = out[output].data as Float32Array;
      const classes = this.labels.length;
      if (data.length !== n * classes) throw new Error(`model output "${output}" has ${data.length} values for ${n} × ${classes} labels`);
      const rows: Float32Array[] = new Array(n);
      for (let r = 0; r < n; r++) rows[r] = logits ? softmax(data.subarray(r * classes, (r + 1) * classes)) : data.subarray(r * classes, (r + 1) * classes);
      return rows;
    } finally {
      this.inflight--;
    }
  }

  /** One text; concurrent callers in the same tick share a batch. */
  probabilities(text: string): Promise<Float32Array> {
    const features = this.featurise(text);
    return new Promise((resolve, reject) => {
      this.queue.push({ features, resolve, reject });
      if (!this.scheduled) {
        // Callers in the same tick (synchronous code, or promise continuations already queued)
        // share one run; a lone caller does not wait for an extra turn of the event loop.
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.runBatch(batch.map((b) => b.features)).then(
        (results) => batch.forEach((b, i) => b.resolve(results[i])),
        (error: Error) => batch.forEach((b) => b.reject(error)),
      );
    }
  }

  async predict(text: string, topK = 3): Promise<Prediction> {
    return this.toPrediction(await this.probabilities(text), topK);
  }

  async predictMany(texts: string[], topK = 3): Promise<Prediction[]> {
    // Batches hold texts of similar feature counts: a batch is padded to its longest row, and the
    // graph gathers [batch, width, classes] weights, so one long text would slow its whole batch.
    const features = texts.map((t) => this.featurise(t));
    const order = features.map((_, i) => i).sort((a, b) => features[a].ids.length - features[b].ids.length || a - b);
    const results: Prediction[] = new Array(texts.length);
    for (let start = 0; start < order.length; start += MAX_BATCH) {
      const chunk = order.slice(start, start + MAX_BATCH);
      const probabilities = await this.runBatch(chunk.map((i) => features[i]));
      chunk.forEach((i, r) => (results[i] = this.toPrediction(probabilities[r], topK)));
    }
    return results;
  }

  toPrediction(p: Float32Array, topK = 3): Prediction {
    // Top k by insertion into a short sorted list (ties: lower index first), no full sort.
    const k = Math.max(1, Math.min(topK, p.length));
    const best: number[] = [];
    for (let c = 0; c < p.length; c++) {
      if (best.length === k && !(p[c] > p[best[k - 1]])) continue;
      let at = best.length === k ? k - 1 : best.length;
      while (at > 0 && p[c] > p[best[at - 1]]) {
        best[at] = best[at - 1];
        at--;
      }
      best[at] = c;
    }
    return {
      label: this.labels[best[0]],
      confidence: p[best[0]],
      top: best.slice(0, topK).map((c) => ({ label: this.labels[c], p: p[c] })),
    };
  }

  /** Releases the session once in-flight runs finish (hot swap keeps serving meanwhile). */
  async close(): Promise<void> {
    while (this.inflight > 0 || this.queue.length || this.scheduled) await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

function isTokenIo(io: HashedIo | TokenIo): io is TokenIo {
  return (io as TokenIo).inputIds !== undefined;
}

function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const value of logits) if (value > max) max = value;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
