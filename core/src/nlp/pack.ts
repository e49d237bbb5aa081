/**
 * Model packs: a directory (or the same two files anywhere) holding `model.onnx` and
 * `manifest.json`. See docs/nlp.md for the contract external packs must follow.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FeaturiserConfig } from './featuriser.js';
import type { WordPieceConfig } from './wordpiece.js';
import { DEFAULT_FEATURISER } from './featuriser.js';
import type { BagModel } from './model.js';
import { fromOnnx, INPUT_IDS, INPUT_VALUES, OUTPUT_PROBABILITIES, toOnnx } from './onnx/export.js';
import type { TrainMetrics } from './trainer.js';

export const PACK_FORMAT = 'switchboard-nlp-pack/1';
export const NLP_TASKS = ['intent', 'emotion', 'language', 'rerank'] as const;
export type NlpTask = (typeof NLP_TASKS)[number];

/** The name of a pack's directory in the import root: one plain path segment, never `.` or `..`. */
export const IMPORT_DIRECTORY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Inputs and output of a graph over hashed n-gram features (what this trainer exports). */
export interface HashedIo {
  ids: string;
  values: string;
  probabilities: string;
}

/** Inputs and output of a transformer graph over word-piece ids (`featuriser.kind: "wordpiece"`). */
export interface TokenIo {
  inputIds: string;
  attentionMask: string;
  /** Present when the graph takes segment ids (all 0 for one text). */
  tokenTypeIds?: string;
  /** `[batch, labels]` float32: probabilities, or logits when `outputIsLogits` (softmax is applied here). */
  output: string;
  outputIsLogits: boolean;
}

export interface PackManifest {
  format: typeof PACK_FORMAT;
  /** Registry name, e.g. `intent` or `intent:inbox-42`. */
  name: string;
  task: NlpTask;
  version: string;
  labels: string[];
  featuriser: FeaturiserConfig | WordPieceConfig;
  io: HashedIo | TokenIo;
  /** Predictions below this confidence are out of scope (`null` intent). */
  outOfScopeThreshold: number;
  trainingDataHash: string;
  metrics: Partial<TrainMetrics> | Record<string, unknown>;
  createdAt: string;
  /** sha256 of model.onnx, checked at load. */
  modelSha256: string;
  producer: string;
  languages?: string[];
  description?: string;
}

export interface Pack {
  manifest: PackManifest;
  onnx: Uint8Array;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function buildPack(
  model: BagModel,
  info: {
    name: string;
    task: NlpTask;
    version?: string;
    trainingDataHash: string;
    metrics: PackManifest['metrics'];
    outOfScopeThreshold: number;
    createdAt: Date;
    languages?: string[];
    description?: string;
  },
): Pack {
  const version =
    info.version ??
    info.createdAt
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14);
  const onnx = toOnnx(model, { task: info.task, name: info.name, version });
  const manifest: PackManifest = {
    format: PACK_FORMAT,
    name: info.name,
    task: info.task,
    version,
    labels: model.labels,
    featuriser: model.featuriser,
    io: { ids: INPUT_IDS, values: INPUT_VALUES, probabilities: OUTPUT_PROBABILITIES },
    outOfScopeThreshold: info.outOfScopeThreshold,
    trainingDataHash: info.trainingDataHash,
    metrics: info.metrics,
    createdAt: info.createdAt.toISOString(),
    modelSha256: sha256(onnx),
    producer: 'switchboard-nlp trainer',
    ...(info.languages ? { languages: info.languages } : {}),
    ...(info.description ? { description: info.description } : {}),
  };
  return { manifest, onnx };
}

export function writePack(dir: string, pack: Pack): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), pack.onnx);
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(pack.manifest, null, 2)}\n`);
}

export class PackError extends Error {}

/** Checks a manifest from any producer; throws PackError with a readable reason. */
export function validateManifest(value: unknown, onnx?: Uint8Array): PackManifest {
  const m = value as Partial<PackManifest>;
  const fail = (reason: string): never => {
    throw new PackError(`invalid model pack: ${reason}`);
  };
  if (!m || typeof m !== 'object') fail('manifest.json is not an object');
  if (m.format !== PACK_FORMAT) fail(`format must be "${PACK_FORMAT}"`);
  if (typeof m.name !== 'string' || !/^[a-z][a-z0-9_.:-]{0,100}$/i.test(m.name)) fail('name must be 1–101 characters of letters, digits, _ . : -');
  if (!NLP_TASKS.includes(m.task as NlpTask)) fail(`task must be one of ${NLP_TASKS.join(', ')}`);
  if (typeof m.version !== 'string' || !m.version || m.version.length > 64) fail('version must be a short string');
  if (!Array.isArray(m.labels) || m.labels.length < 2 || m.labels.some((l) => typeof l !== 'string')) fail('labels must list at least 2 strings');
  const f = m.featuriser as FeaturiserConfig | WordPieceConfig | undefined;
  if (!f || (f.kind !== 'hashed-ngrams' && f.kind !== 'wordpiece')) fail('featuriser.kind must be "hashed-ngrams" or "wordpiece"');
  if (typeof m.outOfScopeThreshold !== 'number' || m.outOfScopeThreshold < 0 || m.outOfScopeThreshold > 1) fail('outOfScopeThreshold must be in [0, 1]');
  if (onnx && m.modelSha256 && m.modelSha256 !== sha256(onnx)) fail('modelSha256 does not match model.onnx');
  let featuriser: PackManifest['featuriser'];
  let io: PackManifest['io'];
  if (f!.kind === 'wordpiece') {
    const wordpiece = f as WordPieceConfig;
    if (!Array.isArray(wordpiece.vocab) || wordpiece.vocab.length < 5 || wordpiece.vocab.some((token) => typeof token !== 'string'))
      fail('featuriser.vocab must list the vocabulary (the lines of vocab.txt)');
    if (!Number.isInteger(wordpiece.maxLength) || wordpiece.maxLength < 3 || wordpiece.maxLength > 4096) fail('featuriser.maxLength must be 3–4096');
    featuriser = { ...wordpiece, lowercase: wordpiece.lowercase !== false };
    const given = (m.io ?? {}) as Partial<TokenIo>;
    io = {
      inputIds: given.inputIds ?? 'input_ids',
      attentionMask: given.attentionMask ?? 'attention_mask',
      ...(given.tokenTypeIds ? { tokenTypeIds: given.tokenTypeIds } : {}),
      output: given.output ?? 'logits',
      outputIsLogits: given.outputIsLogits ?? (given.output ?? 'logits') === 'logits',
    };
  } else {
    featuriser = { ...DEFAULT_FEATURISER, ...(f as FeaturiserConfig) };
    io = { ids: INPUT_IDS, values: INPUT_VALUES, probabilities: OUTPUT_PROBABILITIES, ...(m.io as Partial<HashedIo>) };
  }
  return {
    ...(m as PackManifest),
    featuriser,
    io,
    trainingDataHash: m.trainingDataHash ?? 'unknown',
    metrics: m.metrics ?? {},
    createdAt: m.createdAt ?? new Date(0).toISOString(),
    modelSha256: m.modelSha256 ?? sha256(onnx ?? new Uint8Array()),
    producer: m.producer ?? 'external',
  };
}

export function readPack(dir: string): Pack {
  let raw: unknown;
  let onnx: Uint8Array;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    onnx = readFileSync(join(dir, 'model.onnx'));
  } catch (error) {
    throw new PackError(`cannot read a model pack in ${dir}: ${(error as Error).message}`);
  }
  // A transformer pack may keep its vocabulary as the exporter wrote it, in vocab.txt next to the manifest.
  const featuriser = (raw as { featuriser?: { kind?: unknown; vocab?: unknown } } | null)?.featuriser;
  if (featuriser && featuriser.kind === 'wordpiece' && featuriser.vocab === undefined && existsSync(join(dir, 'vocab.txt'))) {
    featuriser.vocab = readVocabulary(readFileSync(join(dir, 'vocab.txt'), 'utf8'));
  }
  return { manifest: validateManifest(raw, onnx), onnx };
}

/** The TypeScript reference model inside a pack written by this trainer. */
export function referenceModel(pack: Pack): BagModel {
  if (pack.manifest.featuriser.kind !== 'hashed-ngrams') throw new PackError('only packs over hashed n-grams have a TypeScript reference model');
  return fromOnnx(pack.onnx, pack.manifest.featuriser);
}

/** Reads `vocab.txt` (one token per line, id = line number) for a transformer pack's manifest. */
export function readVocabulary(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
