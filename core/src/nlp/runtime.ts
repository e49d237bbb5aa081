/**
 * Serving a model pack with onnxruntime-node: one InferenceSession per pack, single-threaded,
 * with requests that arrive in the same tick batched into one run.
 */
import * as ort from 'onnxruntime-node';
import { Featuriser, type SparseFeatures } from './featuriser.js';
import type { Pack, PackManifest } from './pack.js';

export interface Prediction {
  label: string;
  confidence: number;
  /** Top labels with probabilities, best first. */
  top: Array<{ label: string; p: number }>;
}

const MAX_BATCH = 64;

export class OnnxClassifier {
  private readonly featuriser: Featuriser;
  private queue: Array<{ features: SparseFeatures; resolve: (p: Float32Array) => void; reject: (e: Error) => void }> = [];
  private scheduled = false;
  private inflight = 0;
  private released = false;

  private constructor(
    readonly manifest: PackManifest,
    private readonly session: ort.InferenceSession,
  ) {
    this.featuriser = new Featuriser(manifest.featuriser);
  }

  static async load(pack: Pack): Promise<OnnxClassifier> {
    const session = await ort.InferenceSession.create(pack.onnx, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const output = pack.manifest.io.probabilities;
    if (!session.outputNames.includes(output)) throw new Error(`model.onnx has no output "${output}"`);
    for (const input of [pack.manifest.io.ids, pack.manifest.io.values]) {
      if (!session.inputNames.includes(input)) throw new Error(`model.onnx has no input "${input}"`);
    }
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
    const width = Math.max(1, ...batch.map((f) => f.ids.length));
    const ids = new BigInt64Array(n * width);
    const values = new Float32Array(n * width);
    for (let r = 0; r < n; r++) {
      const f = batch[r];
      for (let i = 0; i < f.ids.length; i++) {
        ids[r * width + i] = BigInt(f.ids[i]);
        values[r * width + i] = f.values[i];
      }
    }
    const { io } = this.manifest;
    this.inflight++;
    try {
      const out = await this.session.run({
        [io.ids]: new ort.Tensor('int64', ids, [n, width]),
        [io.values]: new ort.Tensor('float32', values, [n, width]),
      });
      const data = out[io.probabilities].data as Float32Array;
      const classes = this.labels.length;
      return Array.from({ length: n }, (_, r) => data.slice(r * classes, (r + 1) * classes));
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
        this.scheduled = true;
        setImmediate(() => this.flush());
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
    const results: Prediction[] = [];
    for (let start = 0; start < texts.length; start += MAX_BATCH) {
      const chunk = texts.slice(start, start + MAX_BATCH).map((t) => this.featurise(t));
      for (const p of await this.runBatch(chunk)) results.push(this.toPrediction(p, topK));
    }
    return results;
  }

  toPrediction(p: Float32Array, topK = 3): Prediction {
    const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
    return {
      label: this.labels[order[0]],
      confidence: p[order[0]],
      top: order.slice(0, topK).map((k) => ({ label: this.labels[k], p: p[k] })),
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
