/**
 * The tokenizer of BERT-family models (Google's BasicTokenizer + WordpieceTokenizer, as in
 * `BertTokenizer` with `do_lower_case`), so that a transformer fine-tuned and exported to ONNX
 * elsewhere can be registered as a model pack with its `vocab.txt` (see docs/nlp.md, "Transformer
 * packs"). Output is the `SparseFeatures` shape the runtime batches: `ids` are vocabulary ids with
 * [CLS] … [SEP], `values` the attention mask (all 1; padding is added per batch).
 */
import type { SparseFeatures } from './featuriser.js';

export interface WordPieceConfig {
  kind: 'wordpiece';
  /** The vocabulary in id order (the lines of `vocab.txt`). */
  vocab: string[];
  /** Lower-case and strip accents before splitting (uncased models). */
  lowercase: boolean;
  /** Tokens per text including [CLS] and [SEP]; longer texts are cut. */
  maxLength: number;
  clsToken?: string;
  sepToken?: string;
  unkToken?: string;
  padToken?: string;
}

/** Raw input beyond this many UTF-16 units is ignored: bounded time for huge inputs. */
const RAW_LIMIT = 16_384;
/** Longer "words" become [UNK], as in BERT's reference implementation. */
const MAX_CHARS_PER_WORD = 100;

// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF\uFFFD]/g;
const COMBINING_MARK = /\p{Mn}/gu;
const PUNCTUATION = /[\p{P}!-/:-@[-`{-~]/u;

/** The CJK ideograph blocks BERT splits into single characters. */
function isCjk(code: number): boolean {
  return (
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x20000 && code <= 0x2a6df) ||
    (code >= 0x2a700 && code <= 0x2b73f) ||
    (code >= 0x2b740 && code <= 0x2b81f) ||
    (code >= 0x2b820 && code <= 0x2ceaf) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0x2f800 && code <= 0x2fa1f)
  );
}

export class WordPieceTokenizer {
  private readonly ids = new Map<string, number>();
  readonly cls: number;
  readonly sep: number;
  readonly unk: number;
  readonly pad: number;

  constructor(readonly config: WordPieceConfig) {
    if (config.kind !== 'wordpiece') throw new Error(`unsupported featuriser ${String(config.kind)}`);
    if (!Array.isArray(config.vocab) || config.vocab.length < 5) throw new Error('a wordpiece vocabulary needs at least 5 entries');
    if (!(Number.isInteger(config.maxLength) && config.maxLength >= 3 && config.maxLength <= 4096)) throw new Error('maxLength must be 3–4096');
    config.vocab.forEach((token, id) => {
      if (!this.ids.has(token)) this.ids.set(token, id);
    });
    const special = (token: string) => {
      const id = this.ids.get(token);
      if (id === undefined) throw new Error(`the vocabulary has no ${token}`);
      return id;
    };
    this.cls = special(config.clsToken ?? '[CLS]');
    this.sep = special(config.sepToken ?? '[SEP]');
    this.unk = special(config.unkToken ?? '[UNK]');
    this.pad = special(config.padToken ?? '[PAD]');
  }

  /** The word pieces of a text, without [CLS]/[SEP] and without the length cut (for tests and diagnostics). */
  pieces(text: string): string[] {
    const out: string[] = [];
    for (const word of this.words(text)) for (const id of this.wordPieces(word)) out.push(this.config.vocab[id]!);
    return out;
  }

  featurise(text: string): SparseFeatures {
    const room = this.config.maxLength - 2;
    const ids: number[] = [this.cls];
    for (const word of this.words(text)) {
      for (const id of this.wordPieces(word)) {
        if (ids.length > room) break;
        ids.push(id);
      }
      if (ids.length > room) break;
    }
    ids.push(this.sep);
    return { ids: Int32Array.from(ids), values: new Float32Array(ids.length).fill(1) };
  }

  /** BasicTokenizer: clean, split CJK characters and punctuation off, lower-case and strip accents. */
  private words(text: string): string[] {
    let spaced = '';
    for (const char of (typeof text === 'string' ? text : '').slice(0, RAW_LIMIT).replace(CONTROL, ''))
      spaced += isCjk(char.codePointAt(0)!) ? ` ${char} ` : char;
    const words: string[] = [];
    for (let token of spaced.split(/\s+/u)) {
      if (!token) continue;
      if (this.config.lowercase) token = token.toLowerCase().normalize('NFD').replace(COMBINING_MARK, '');
      let current = '';
      for (const char of token) {
        if (PUNCTUATION.test(char)) {
          if (current) words.push(current);
          words.push(char);
          current = '';
        } else {
          current += char;
        }
      }
      if (current) words.push(current);
    }
    return words;
  }

  /** WordpieceTokenizer: greedy longest match first, continuations prefixed with `##`; no match at all is [UNK]. */
  private wordPieces(word: string): number[] {
    const chars = Array.from(word);
    if (chars.length > MAX_CHARS_PER_WORD) return [this.unk];
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        found = this.ids.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unk];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }
}
