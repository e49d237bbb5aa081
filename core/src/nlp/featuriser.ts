/**
 * Text → hashed sparse features, identical at training and serving time.
 *
 * normalise: NFKC (full-width → half-width), lower case, traditional → simplified Chinese
 * (opencc-js), zero-width/control characters removed, URLs/emails/numbers replaced by one
 * private-use placeholder character each, whitespace collapsed, length capped.
 * features: word n-grams (CJK characters count as words) and character n-grams inside each
 * whitespace-delimited run (padded with a space, like scikit-learn's `char_wb`), hashed with
 * FNV-1a + a murmur finaliser into 2^hashBits buckets. Values are sublinear term frequencies
 * (1 + ln count); idf weighting and L2 normalisation happen inside the model graph.
 */
import * as OpenCC from 'opencc-js/t2cn';

export interface FeaturiserConfig {
  kind: 'hashed-ngrams';
  /** Feature space is 2^hashBits buckets. */
  hashBits: number;
  /** Word n-gram orders, inclusive. 0 disables word features. */
  wordNgrams: [number, number];
  /** Character n-gram orders, inclusive. */
  charNgrams: [number, number];
  /** Characters kept after normalisation; the rest is ignored (bounded time for huge inputs). */
  maxChars: number;
  /** At most this many distinct features per text. */
  maxFeatures: number;
  lowercase: boolean;
  traditionalToSimplified: boolean;
  placeholders: boolean;
}

export const DEFAULT_FEATURISER: FeaturiserConfig = {
  kind: 'hashed-ngrams',
  hashBits: 20,
  wordNgrams: [1, 2],
  charNgrams: [1, 5],
  maxChars: 1000,
  maxFeatures: 4096,
  lowercase: true,
  traditionalToSimplified: true,
  placeholders: true,
};

export const PLACEHOLDER = { number: '\uE000', url: '\uE001', email: '\uE002' } as const;

/** Raw input beyond this many UTF-16 units is cut before any regular expression runs. */
const RAW_LIMIT = 16_384;
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const ZERO_WIDTH = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF]/g;
const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
const EMAIL_RE = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
const NUMBER_RE = /\d+(?:[.,:/-]\d+)*/g;
const HAN = /\p{Script=Han}/u;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303F\uFF00-\uFFEF]/u;
const WORD_RE = /[\p{L}\p{M}\p{N}\uE000-\uE002_']+/gu;

let t2s: ((text: string) => string) | undefined;
function toSimplified(text: string): string {
  const convert = (t2s ??= OpenCC.Converter({ from: 'hk', to: 'cn' }));
  return convert(text);
}

export function normalise(input: string, config: Pick<FeaturiserConfig, 'lowercase' | 'traditionalToSimplified' | 'placeholders' | 'maxChars'>): string {
  let text = typeof input === 'string' ? input : String(input ?? '');
  if (text.length > RAW_LIMIT) text = text.slice(0, RAW_LIMIT);
  text = text.normalize('NFKC').replace(ZERO_WIDTH, '');
  if (config.lowercase) text = text.toLowerCase();
  if (config.traditionalToSimplified && HAN.test(text)) text = toSimplified(text);
  if (config.placeholders) {
    text = text.replace(URL_RE, ` ${PLACEHOLDER.url} `).replace(EMAIL_RE, ` ${PLACEHOLDER.email} `).replace(NUMBER_RE, PLACEHOLDER.number);
  }
  text = text.replace(/\s+/g, ' ').trim();
  if (text.length > config.maxChars) text = text.slice(0, config.maxChars);
  return text;
}

/** Word tokens: alphabetic runs as words, every CJK character a word of its own. */
export function tokenise(normalised: string): string[] {
  const tokens: string[] = [];
  for (const match of normalised.matchAll(WORD_RE)) {
    const word = match[0];
    if (!CJK_CHAR.test(word)) {
      tokens.push(word);
      continue;
    }
    let run = '';
    for (const ch of word) {
      if (CJK_CHAR.test(ch)) {
        if (run) tokens.push(run);
        run = '';
        tokens.push(ch);
      } else run += ch;
    }
    if (run) tokens.push(run);
  }
  return tokens;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD_SEED = 0x9e3779b9;
const CHAR_SEED = 0x85ebca6b;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(text: string, seed: number): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

export interface SparseFeatures {
  /** Bucket ids, ascending. */
  ids: Int32Array;
  /** 1 + ln(count) per bucket. */
  values: Float32Array;
}

/**
 * Open-addressing bucket → count table, reused across calls (featurising allocates only the
 * output arrays). Capacity is a power of two at least twice maxFeatures, so probing always ends.
 */
class CountTable {
  readonly keys: Int32Array;
  readonly counts: Int32Array;
  /** Slot of each inserted key, in insertion order. */
  readonly slots: Int32Array;
  size = 0;
  private readonly mask: number;

  constructor(readonly limit: number) {
    let capacity = 16;
    while (capacity < limit * 2) capacity <<= 1;
    this.keys = new Int32Array(capacity).fill(-1);
    this.counts = new Int32Array(capacity);
    this.slots = new Int32Array(limit);
    this.mask = capacity - 1;
  }

  /** Counts a bucket; a new bucket is ignored once `limit` distinct buckets are held. */
  add(bucket: number): void {
    const { keys, mask } = this;
    let slot = fmix(bucket ^ 0x5bd1e995) & mask;
    for (;;) {
      const key = keys[slot];
      if (key === bucket) {
        this.counts[slot]++;
        return;
      }
      if (key === -1) break;
      slot = (slot + 1) & mask;
    }
    if (this.size >= this.limit) return;
    keys[slot] = bucket;
    this.counts[slot] = 1;
    this.slots[this.size++] = slot;
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) this.keys[this.slots[i]] = -1;
    this.size = 0;
  }
}

export class Featuriser {
  readonly mask: number;
  private readonly table: CountTable;

  constructor(readonly config: FeaturiserConfig) {
    if (config.kind !== 'hashed-ngrams') throw new Error(`unsupported featuriser ${String(config.kind)}`);
    if (!(config.hashBits >= 8 && config.hashBits <= 24)) throw new Error('hashBits must be 8–24');
    if (!(config.maxFeatures >= 1 && config.maxFeatures <= 1 << 20)) throw new Error('maxFeatures must be 1–2^20');
    this.mask = (1 << config.hashBits) - 1;
    this.table = new CountTable(config.maxFeatures);
  }

  normalise(text: string): string {
    return normalise(text, this.config);
  }

  /** Fills the count table from raw text (word n-grams first, then character n-grams). */
  private fill(text: string): void {
    const normalised = this.normalise(text);
    const { mask, table } = this;
    table.clear();
    const [wMin, wMax] = this.config.wordNgrams;
    if (wMax > 0) {
      const tokens = tokenise(normalised);
      const hashes = new Uint32Array(tokens.length);
      for (let i = 0; i < tokens.length; i++) hashes[i] = hashString(tokens[i], WORD_SEED);
      for (let i = 0; i < hashes.length; i++) {
        let h = 0;
        for (let n = 1; n <= wMax && i + n <= hashes.length; n++) {
          h = (Math.imul(h ^ hashes[i + n - 1], 0x27d4eb2d) + n) >>> 0;
          if (n >= wMin) table.add(fmix((h ^ n) >>> 0) & mask);
        }
      }
    }
    const [cMin, cMax] = this.config.charNgrams;
    if (cMax > 0 && normalised.length > 0) {
      // Character n-grams inside each space-delimited run, padded with one space on each side.
      // Characters are code points (a surrogate pair is one character, hashed as its two units).
      const padded = ` ${normalised} `;
      const length = padded.length;
      let runStart = 0;
      while (runStart < length - 1) {
        // A run is [runStart, runEnd]: the leading space, the word, the trailing space.
        let runEnd = runStart + 1;
        while (runEnd < length && padded.charCodeAt(runEnd) !== 32) runEnd++;
        if (runEnd === runStart + 1) {
          runStart = runEnd;
          continue;
        }
        for (let i = runStart; i <= runEnd;) {
          let h = (FNV_OFFSET ^ CHAR_SEED) >>> 0;
          let j = i;
          let firstWidth = 1;
          for (let n = 1; n <= cMax && j <= runEnd; n++) {
            const code = padded.charCodeAt(j);
            const next = code >= 0xd800 && code <= 0xdbff ? padded.charCodeAt(j + 1) : 0;
            const width = next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
            if (n === 1) firstWidth = width;
            h ^= code;
            h = Math.imul(h, FNV_PRIME);
            if (width === 2) {
              h ^= next;
              h = Math.imul(h, FNV_PRIME);
            }
            j += width;
            // A lone padding space carries no information.
            if (n >= cMin && !(n === 1 && code === 32)) table.add(fmix((h ^ Math.imul(n, 0x165667b1)) >>> 0) & mask);
          }
          i += firstWidth;
        }
        runStart = runEnd;
      }
    }
  }

  /** Bucket → count, from raw text. */
  counts(text: string): Map<number, number> {
    this.fill(text);
    const { table } = this;
    const counts = new Map<number, number>();
    for (let i = 0; i < table.size; i++) counts.set(table.keys[table.slots[i]], table.counts[table.slots[i]]);
    return counts;
  }

  featurise(text: string): SparseFeatures {
    this.fill(text);
    const { table } = this;
    const n = table.size;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = table.keys[table.slots[i]];
    ids.sort();
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = 1 + Math.log(this.countOf(ids[i]));
    return { ids, values };
  }

  private countOf(bucket: number): number {
    const { keys } = this.table;
    const mask = keys.length - 1;
    let slot = fmix(bucket ^ 0x5bd1e995) & mask;
    while (keys[slot] !== bucket) slot = (slot + 1) & mask;
    return this.table.counts[slot];
  }
}
