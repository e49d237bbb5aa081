/**
 * Knowledge-base retrieval: BM25 over every question variant of every entry, then a learned
 * re-ranker (logistic regression over lexical similarity features) trained on the KB's own
 * question variants by leave-one-out: each variant is a query whose right answer is its own entry.
 */
import { DEFAULT_FEATURISER, Featuriser, normalise, tokenise } from './featuriser.js';
import { rng } from './trainer.js';

export interface KbEntry {
  id: string;
  /** The question and its paraphrases; at least one. */
  questions: string[];
  /** Optional answer/body text, indexed with a lower weight. */
  text?: string;
}

export interface RetrievalHit {
  id: string;
  /** Re-ranker probability that this entry answers the query, 0–1. */
  score: number;
  bm25: number;
  /** The question variant that matched best. */
  matched: string;
}

const NORM = { lowercase: true, traditionalToSimplified: true, placeholders: true, maxChars: 1000 };
const K1 = 1.2;
const B = 0.75;
const CANDIDATES = 30;
const FEATURE_NAMES = ['bm25_norm', 'bm25_rank', 'char_cosine', 'token_jaccard', 'coverage', 'length_ratio', 'body_bm25'] as const;

function terms(text: string): string[] {
  const tokens = tokenise(normalise(text, NORM));
  const out = [...tokens];
  for (let i = 0; i + 1 < tokens.length; i++) out.push(`${tokens[i]}\u0001${tokens[i + 1]}`);
  return out;
}

interface Doc {
  entry: number;
  variant: string;
  tf: Map<string, number>;
  length: number;
  charVector: Map<number, number>;
  tokens: Set<string>;
}

class Bm25 {
  readonly df = new Map<string, number>();
  /** Per term, the documents that contain it (by index), so a query scores only documents it shares a term with. */
  private readonly postings = new Map<string, number[]>();
  private readonly idfs = new Map<string, number>();
  avgLength = 1;
  constructor(readonly docs: Array<{ tf: Map<string, number>; length: number }>) {
    let total = 0;
    docs.forEach((d, index) => {
      total += d.length;
      for (const t of d.tf.keys()) {
        this.df.set(t, (this.df.get(t) ?? 0) + 1);
        const list = this.postings.get(t);
        if (list) list.push(index);
        else this.postings.set(t, [index]);
      }
    });
    this.avgLength = docs.length ? Math.max(1, total / docs.length) : 1;
  }
  idf(term: string): number {
    let idf = this.idfs.get(term);
    if (idf === undefined) {
      const n = this.df.get(term) ?? 0;
      idf = Math.log(1 + (this.docs.length - n + 0.5) / (n + 0.5));
      this.idfs.set(term, idf);
    }
    return idf;
  }
  private termScore(term: string, f: number, doc: { length: number }): number {
    return (this.idf(term) * f * (K1 + 1)) / (f + K1 * (1 - B + (B * doc.length) / this.avgLength));
  }
  score(query: string[], doc: { tf: Map<string, number>; length: number }): number {
    let s = 0;
    for (const t of new Set(query)) {
      const f = doc.tf.get(t);
      if (!f) continue;
      s += this.termScore(t, f, doc);
    }
    return s;
  }
  /**
   * `score` for every document with a query term, by document index (the others score 0). Terms are added in
   * the same order as in `score`, so each sum is the same to the last bit.
   */
  scoreAll(query: string[]): Map<number, number> {
    const scores = new Map<number, number>();
    for (const t of new Set(query)) {
      for (const index of this.postings.get(t) ?? []) {
        const doc = this.docs[index]!;
        scores.set(index, (scores.get(index) ?? 0) + this.termScore(t, doc.tf.get(t)!, doc));
      }
    }
    return scores;
  }
}

const tfOf = (list: string[]): Map<string, number> => {
  const tf = new Map<string, number>();
  for (const t of list) tf.set(t, (tf.get(t) ?? 0) + 1);
  return tf;
};

export class KbIndex {
  private readonly docs: Doc[];
  /** The documents of each entry (its question variants), by entry index. */
  private readonly variants: Doc[][] = [];
  private readonly bm25: Bm25;
  private readonly bodies: Array<{ tf: Map<string, number>; length: number }>;
  private readonly bodyBm25: Bm25;
  private readonly featuriser = new Featuriser({ ...DEFAULT_FEATURISER, hashBits: 20, wordNgrams: [0, 0], charNgrams: [1, 3] });
  private weights: Float64Array = Float64Array.from([2, 1, 3, 1, 1, 0, 0.5, -3]);
  readonly trainedOn: number;

  constructor(readonly entries: KbEntry[]) {
    this.docs = entries.flatMap((entry, i) => entry.questions.filter((q) => typeof q === 'string' && q.trim()).map((variant) => this.makeDoc(i, variant)));
    for (const doc of this.docs) (this.variants[doc.entry] ??= []).push(doc);
    this.bm25 = new Bm25(this.docs);
    this.bodies = entries.map((e) => {
      const list = terms(e.text ?? '');
      return { tf: tfOf(list), length: list.length };
    });
    this.bodyBm25 = new Bm25(this.bodies);
    this.trainedOn = this.trainReranker();
  }

  private makeDoc(entry: number, variant: string): Doc {
    const list = terms(variant);
    const features = this.featuriser.featurise(variant);
    const charVector = new Map<number, number>();
    let ss = 0;
    features.values.forEach((v) => (ss += v * v));
    const norm = Math.sqrt(ss) || 1;
    features.ids.forEach((id, i) => charVector.set(id, features.values[i] / norm));
    return { entry, variant, tf: tfOf(list), length: list.length, charVector, tokens: new Set(tokenise(normalise(variant, NORM))) };
  }

  /** Per entry: the best variant's BM25, and the similarity features of that pair. */
  private candidates(query: Doc, queryTerms: string[], exclude?: Doc): Array<{ entry: number; bm25: number; features: number[]; matched: string }> {
    const best = new Map<number, { score: number; doc: Doc }>();
    // In document order, as a scan of every document would visit them (ties keep the first variant).
    const scored = [...this.bm25.scoreAll(queryTerms)].sort((a, b) => a[0] - b[0]);
    for (const [index, score] of scored) {
      const doc = this.docs[index]!;
      if (doc === exclude) continue;
      if (score <= 0) continue;
      const current = best.get(doc.entry);
      if (!current || score > current.score) best.set(doc.entry, { score, doc });
    }
    const ranked = [...best.entries()].sort((a, b) => b[1].score - a[1].score).slice(0, CANDIDATES);
    const top = ranked.length ? ranked[0][1].score : 1;
    return ranked.map(([entry, { score, doc }], rank) => {
      // Similarity to the closest variant of this entry, not just the BM25 winner.
      let cosine = 0;
      let jaccard = 0;
      let coverage = 0;
      let lengthRatio = 0;
      for (const variant of this.variants[entry] ?? []) {
        if (variant === exclude) continue;
        let dot = 0;
        for (const [id, v] of query.charVector) dot += v * (variant.charVector.get(id) ?? 0);
        let inter = 0;
        for (const t of query.tokens) if (variant.tokens.has(t)) inter++;
        const union = query.tokens.size + variant.tokens.size - inter;
        if (dot > cosine) cosine = dot;
        jaccard = Math.max(jaccard, union ? inter / union : 0);
        coverage = Math.max(coverage, query.tokens.size ? inter / query.tokens.size : 0);
        lengthRatio = Math.max(lengthRatio, Math.min(query.length, variant.length) / Math.max(1, query.length, variant.length));
      }
      const body = this.bodyBm25.score(queryTerms, this.bodies[entry]);
      return {
        entry,
        bm25: score,
        matched: doc.variant,
        features: [score / top, 1 / (1 + rank), cosine, jaccard, coverage, lengthRatio, Math.min(1, body / 10)],
      };
    });
  }

  private score(features: number[]): number {
    let z = this.weights[this.weights.length - 1];
    for (let i = 0; i < features.length; i++) z += this.weights[i] * features[i];
    return 1 / (1 + Math.exp(-z));
  }

  /** Leave-one-out over question variants; returns the number of training queries used. */
  private trainReranker(): number {
    const samples: Array<{ x: number[]; y: number }> = [];
    for (const doc of this.docs) {
      const siblings = this.docs.filter((d) => d.entry === doc.entry && d !== doc).length;
      if (!siblings) continue;
      for (const c of this.candidates(
        doc,
        [...doc.tf.keys()].flatMap((t) => Array(doc.tf.get(t)).fill(t)),
        doc,
      )) {
        samples.push({ x: c.features, y: c.entry === doc.entry ? 1 : 0 });
      }
    }
    const positives = samples.filter((s) => s.y === 1).length;
    if (positives < 3 || positives === samples.length) return 0;
    const dims = FEATURE_NAMES.length;
    const w = new Float64Array(dims + 1);
    const posWeight = (samples.length - positives) / positives;
    const random = rng(11);
    const order = samples.map((_, i) => i);
    for (let epoch = 0; epoch < 60; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const lr = 0.1 / (1 + epoch * 0.1);
      for (const index of order) {
        const { x, y } = samples[index];
        let z = w[dims];
        for (let k = 0; k < dims; k++) z += w[k] * x[k];
        const p = 1 / (1 + Math.exp(-z));
        const g = (p - y) * (y ? posWeight : 1);
        for (let k = 0; k < dims; k++) w[k] -= lr * (g * x[k] + 1e-4 * w[k]);
        w[dims] -= lr * g;
      }
    }
    this.weights = w;
    return order.length;
  }

  search(query: string, k = 5): RetrievalHit[] {
    const queryTerms = terms(query);
    if (!queryTerms.length) return [];
    const q = this.makeDoc(-1, query);
    return this.candidates(q, queryTerms)
      .map((c) => ({ id: this.entries[c.entry].id, score: this.score(c.features), bm25: c.bm25, matched: c.matched }))
      .sort((a, b) => b.score - a.score || b.bm25 - a.bm25)
      .slice(0, Math.max(1, Math.min(k, 100)));
  }

  get rerankerWeights(): Record<string, number> {
    return Object.fromEntries([...FEATURE_NAMES, 'bias'].map((name, i) => [name, this.weights[i]]));
  }
}
