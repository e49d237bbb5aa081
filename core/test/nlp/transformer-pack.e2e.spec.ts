import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, SQLITE_BACKEND, type TestApp } from '../harness/test-app.js';
import { WordPieceTokenizer, type WordPieceConfig } from '../../src/nlp/wordpiece.js';
import { ModelRegistry } from '../../src/nlp/registry.service.js';
import { NlpService } from '../../src/nlp/nlp.service.js';
import { APP_CONFIG } from '../../src/platform/config/config.module.js';
import type { AppConfig } from '../../src/platform/config/app-config.js';
import { encodeModel, ONNX_DATA_TYPE, type NodeProto, type TensorProto, type ValueInfoProto } from '../../src/nlp/onnx/onnx-schema.js';
import { sha256 } from '../../src/nlp/pack.js';

/**
 * "Packs made by other tools (for example a transformer exported to ONNX with its tokenizer)": a pack
 * with a BERT vocabulary and a graph over `input_ids` / `attention_mask` / `token_type_ids` that ends in
 * logits. The graph here is written by the test and is not a transformer (a masked mean of token and
 * segment embeddings, then a linear layer): it has a transformer's inputs and output, which is what the
 * pack contract is about, and its outputs can be computed by hand.
 */
const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  'un',
  '##aff',
  '##able',
  'run',
  '##ning',
  '!',
  '你',
  '好',
  'refund',
  'order',
  'where',
  'is',
  'my',
  'cafe',
  ',',
];
const LABELS = ['refund', 'order_status', 'greeting'];
const D = 4;
const E = VOCAB.map((_, v) => Array.from({ length: D }, (_, d) => Math.sin(v * 1.7 + d * 0.9)));
const TT = [
  [0.1, -0.2, 0.3, 0.05],
  [9, 9, 9, 9],
];
const W = Array.from({ length: D }, (_, d) => LABELS.map((_, c) => Math.cos(d * 1.3 + c * 2.1) * 2));
const B = [0.2, -0.1, 0.05];

function bytes(values: number[], type: 'float' | 'int64'): Uint8Array {
  const array = type === 'float' ? Float32Array.from(values) : BigInt64Array.from(values.map(BigInt));
  return new Uint8Array(array.buffer);
}
const tensor = (name: string, dims: number[], values: number[], type: 'float' | 'int64' = 'float'): TensorProto => ({
  name,
  dims,
  dataType: type === 'float' ? ONNX_DATA_TYPE.FLOAT : ONNX_DATA_TYPE.INT64,
  rawData: bytes(values, type),
});
const info = (name: string, elemType: number, dims: Array<number | string>): ValueInfoProto => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});
const op = (opType: string, input: string[], output: string, attribute: NodeProto['attribute'] = []): NodeProto => ({
  name: output,
  opType,
  input,
  output: [output],
  attribute,
});

function tinyTransformerShapedGraph(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    producerName: 'switchboard-test',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'mean_pooled_classifier',
      node: [
        op('Gather', ['E', 'input_ids'], 'tokens'),
        op('Gather', ['TT', 'token_type_ids'], 'segments'),
        op('Add', ['tokens', 'segments'], 'hidden'),
        op('Cast', ['attention_mask'], 'mask', [{ name: 'to', type: 2, i: ONNX_DATA_TYPE.FLOAT }]),
        op('Unsqueeze', ['mask', 'axis2'], 'mask3'),
        op('Mul', ['hidden', 'mask3'], 'masked'),
        op('ReduceSum', ['masked', 'axis1'], 'summed', [{ name: 'keepdims', type: 2, i: 0 }]),
        op('ReduceSum', ['mask', 'axis1'], 'count', [{ name: 'keepdims', type: 2, i: 1 }]),
        op('Div', ['summed', 'count'], 'pooled'),
        op('MatMul', ['pooled', 'W'], 'scores'),
        op('Add', ['scores', 'B'], 'logits'),
      ],
      initializer: [
        tensor('E', [VOCAB.length, D], E.flat()),
        tensor('TT', [2, D], TT.flat()),
        tensor('W', [D, LABELS.length], W.flat()),
        tensor('B', [LABELS.length], B),
        tensor('axis1', [1], [1], 'int64'),
        tensor('axis2', [1], [2], 'int64'),
      ],
      input: [
        info('input_ids', ONNX_DATA_TYPE.INT64, ['batch', 'sequence']),
        info('attention_mask', ONNX_DATA_TYPE.INT64, ['batch', 'sequence']),
        info('token_type_ids', ONNX_DATA_TYPE.INT64, ['batch', 'sequence']),
      ],
      output: [info('logits', ONNX_DATA_TYPE.FLOAT, ['batch', LABELS.length])],
    },
  });
}

/** The same computation by hand, for one text's ids. */
function expectedProbabilities(ids: number[]): number[] {
  const pooled = Array.from({ length: D }, (_, d) => ids.reduce((sum, id) => sum + E[id]![d]! + TT[0]![d]!, 0) / ids.length);
  const logits = LABELS.map((_, c) => pooled.reduce((sum, value, d) => sum + value * W[d]![c]!, B[c]!));
  const max = Math.max(...logits);
  const exp = logits.map((value) => Math.exp(value - max));
  const total = exp.reduce((a, b) => a + b, 0);
  return exp.map((value) => value / total);
}

const CONFIG: WordPieceConfig = { kind: 'wordpiece', vocab: VOCAB, lowercase: true, maxLength: 8 };

describe('WordPiece tokenizer (BERT uncased rules)', () => {
  const tokenizer = new WordPieceTokenizer(CONFIG);

  it('splits words greedily into pieces, punctuation and CJK characters off, lower-cases and strips accents', () => {
    expect(tokenizer.pieces('Unaffable RUNNING!')).toEqual(['un', '##aff', '##able', 'run', '##ning', '!']);
    expect(tokenizer.pieces('你好,Café')).toEqual(['你', '好', ',', 'cafe']);
    expect(tokenizer.pieces('unknownword where')).toEqual(['[UNK]', 'where']);
  });

  it('adds [CLS] and [SEP], cuts long texts, and gives garbage a bounded, valid encoding', () => {
    expect(Array.from(tokenizer.featurise('where is my order').ids)).toEqual([2, 14, 15, 16, 13, 3]);
    const long = tokenizer.featurise('where is my order '.repeat(50));
    expect(long.ids.length).toBe(8);
    expect(long.ids[0]).toBe(2);
    expect(long.ids[7]).toBe(3);
    for (const garbage of ['', '\u200b\u200b', '🙂🙂🙂', 'x'.repeat(100_000), '\u202Eמה קורה']) {
      const encoded = tokenizer.featurise(garbage);
      expect(encoded.ids.length).toBeGreaterThanOrEqual(2);
      expect(encoded.ids.length).toBeLessThanOrEqual(8);
      expect(Array.from(encoded.values).every((value) => value === 1)).toBe(true);
    }
  });

  it('refuses a vocabulary without the special tokens', () => {
    expect(() => new WordPieceTokenizer({ ...CONFIG, vocab: ['a', 'b', 'c', 'd', 'e'] })).toThrow('[CLS]');
  });
});

describe('a transformer pack made by another tool', () => {
  let app: TestApp;
  let importRoot: string;
  let admin: Record<string, string>;

  const writePack = (directory: string, manifest: Record<string, unknown>, onnx: Uint8Array, vocab: string[] | null = VOCAB) => {
    const dir = join(importRoot, directory);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), onnx);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, modelSha256: sha256(onnx) }));
    if (vocab) writeFileSync(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  };
  const manifest = (name: string) => ({
    format: 'switchboard-nlp-pack/1',
    name,
    task: 'intent',
    version: 'hf-1',
    labels: LABELS,
    featuriser: { kind: 'wordpiece', lowercase: true, maxLength: 8 },
    io: { inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids', output: 'logits', outputIsLogits: true },
    outOfScopeThreshold: 0.2,
    producer: 'transformers + optimum (simulated)',
  });
  const importPack = (body: unknown) =>
    fetch(`${app.url}/api/v1/nlp/models/import`, { method: 'POST', headers: { 'content-type': 'application/json', ...admin }, body: JSON.stringify(body) });

  beforeAll(async () => {
    app = await startTestApp({ env: await SQLITE_BACKEND.env() });
    await app.app.get(ModelRegistry).whenReady();
    importRoot = app.app.get(ModelRegistry).importRoot;
    expect(importRoot).toBe(join(app.app.get<AppConfig>(APP_CONFIG).dataDir, 'nlp', 'import'));
    expect(existsSync(importRoot)).toBe(true);
    admin = await app.authHeaders({ roles: ['admin'], sub: 'nlp-admin' });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  it('is imported with its vocab.txt, activated, and predicts what the graph computes (softmax of its logits)', async () => {
    writePack('tiny-bert', manifest('intent:tiny'), tinyTransformerShapedGraph());
    const response = await importPack({ directory: 'tiny-bert', activate: true });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ name: 'intent:tiny', version: 'hf-1', status: 'active' });

    const tokenizer = new WordPieceTokenizer(CONFIG);
    const nlp = app.app.get(NlpService);
    for (const text of ['where is my order', 'refund', 'Unaffable running!', '你好']) {
      const prediction = await nlp.classify('intent:tiny', text, 3);
      const expected = expectedProbabilities(Array.from(tokenizer.featurise(text).ids));
      const best = expected.indexOf(Math.max(...expected));
      expect(prediction.label).toBe(LABELS[best]);
      expect(prediction.confidence).toBeCloseTo(expected[best]!, 5);
      for (const entry of prediction.top) expect(entry.p).toBeCloseTo(expected[LABELS.indexOf(entry.label)]!, 5);
    }
    // Many texts in one run: rows of different lengths are padded and masked, so each row equals its single run.
    const many = await app.app.get(ModelRegistry).get('intent:tiny')!.predictMany(['refund', 'where is my order', 'run'], 3);
    expect(many[1]!.confidence).toBeCloseTo((await nlp.classify('intent:tiny', 'where is my order', 3)).confidence, 5);

    // An inbox's bot uses it through the normal annotation path.
    const annotation = await nlp.annotate('where is my order', { scope: 'tiny' });
    expect(annotation.intentCandidate ?? annotation.intent).toBe((await nlp.classify('intent:tiny', 'where is my order')).label);
  });

  it('refuses packs that break the contract with 400 nlp_invalid_pack and a reason, and paths outside the import root', async () => {
    writePack('no-vocab', manifest('intent:novocab'), tinyTransformerShapedGraph(), null);
    const noVocab = await importPack({ directory: 'no-vocab' });
    expect(noVocab.status).toBe(400);
    expect(await noVocab.json()).toMatchObject({ error: { code: 'nlp_invalid_pack' } });

    // The graph wants token_type_ids, the manifest does not name them: refused at registration, not per message.
    const { tokenTypeIds: _unused, ...io } = manifest('x').io;
    writePack('no-segments', { ...manifest('intent:nosegments'), io }, tinyTransformerShapedGraph());
    const missingInput = await importPack({ directory: 'no-segments' });
    expect(missingInput.status).toBe(400);
    expect(((await missingInput.json()) as { error: { message: string } }).error.message).toContain('token_type_ids');

    for (const directory of ['../models', '/etc', 'a/b']) expect((await importPack({ directory })).status).toBe(400);
    expect((await importPack({ directory: 'does-not-exist' })).status).toBe(400);
    const agent = await app.authHeaders({ roles: ['agent'], sub: 'nlp-agent' });
    const forbidden = await fetch(`${app.url}/api/v1/nlp/models/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...agent },
      body: JSON.stringify({ directory: 'tiny-bert' }),
    });
    expect(forbidden.status).toBe(403);
  });
});
