/**
 * BagModel → ONNX graph (opset 13), and back.
 *
 * inputs:  ids    int64 [batch, features]  hashed feature buckets (pad with 0)
 *          values float [batch, features]  1 + ln(count) per bucket (pad with 0)
 * output:  probabilities float [batch, classes]
 *
 * Gather(remap) → rows; Gather(idf) · values → L2 normalise → x [batch, 1, features];
 * MatMul(x, Gather(W)) + b → /T → Softmax; MatMul(x, Gather(E)) → MatMul(V) + c → /T → Softmax;
 * mix of the two. (The weighted sums are batched MatMuls: no [batch, features, classes] product
 * tensor is materialised.)
 */
import { endianness } from 'node:os';
import type { BagModel, EmbeddingBranch, LinearBranch } from '../model.js';
import { NORM_EPS } from '../model.js';
import {
  decodeModel,
  encodeModel,
  ONNX_ATTRIBUTE_TYPE,
  ONNX_DATA_TYPE,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx-schema.js';

export const OPSET = 13;
export const INPUT_IDS = 'ids';
export const INPUT_VALUES = 'values';
export const OUTPUT_PROBABILITIES = 'probabilities';

function bytesOf(array: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  if (endianness() === 'LE') return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const out = new Uint8Array(array.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < array.length; i++) {
    if (array instanceof Float32Array) view.setFloat32(i * 4, array[i], true);
    else if (array instanceof Int32Array) view.setInt32(i * 4, array[i], true);
    else view.setBigInt64(i * 8, array[i], true);
  }
  return out;
}

function floatTensor(name: string, dims: number[], data: Float32Array | number[]): TensorProto {
  const array = data instanceof Float32Array ? data : Float32Array.from(data);
  return { name, dims, dataType: ONNX_DATA_TYPE.FLOAT, rawData: bytesOf(array) };
}
function int32Tensor(name: string, dims: number[], data: Int32Array): TensorProto {
  return { name, dims, dataType: ONNX_DATA_TYPE.INT32, rawData: bytesOf(data) };
}
function int64Tensor(name: string, dims: number[], data: number[]): TensorProto {
  return { name, dims, dataType: ONNX_DATA_TYPE.INT64, rawData: bytesOf(BigInt64Array.from(data.map(BigInt))) };
}
function valueInfo(name: string, elemType: number, dims: Array<number | string>): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}
const node = (opType: string, input: string[], output: string[], attribute: NodeProto['attribute'] = []): NodeProto => ({
  name: `${opType}_${output[0]}`,
  opType,
  input,
  output,
  attribute,
});
const intAttr = (name: string, i: number) => ({ name, type: ONNX_ATTRIBUTE_TYPE.INT, i });

export interface ExportMetadata {
  [key: string]: string;
}

export function toOnnx(model: BagModel, metadata: ExportMetadata = {}): Uint8Array {
  const C = model.labels.length;
  const R = model.rows;
  const initializer: TensorProto[] = [
    int32Tensor('remap', [model.remap.length], model.remap),
    floatTensor('idf', [R], model.idf),
    int64Tensor('axis1', [1], [1]),
    floatTensor('eps', [], [NORM_EPS]),
  ];
  const nodes: NodeProto[] = [
    node('Gather', ['remap', INPUT_IDS], ['rows'], [intAttr('axis', 0)]),
    node('Gather', ['idf', 'rows'], ['idf_g'], [intAttr('axis', 0)]),
    node('Mul', [INPUT_VALUES, 'idf_g'], ['x']),
    node('Mul', ['x', 'x'], ['x_sq']),
    node('ReduceSum', ['x_sq', 'axis1'], ['x_ss'], [intAttr('keepdims', 1)]),
    node('Sqrt', ['x_ss'], ['x_norm']),
    node('Max', ['x_norm', 'eps'], ['x_norm_safe']),
    node('Div', ['x', 'x_norm_safe'], ['x_n']),
    // [batch, 1, features]: each branch is one batched MatMul over its gathered rows.
    node('Unsqueeze', ['x_n', 'axis1'], ['x_u']),
  ];
  const branches: string[] = [];
  if (model.linear) {
    const l = model.linear;
    initializer.push(floatTensor('lin_W', [R, C], l.W), floatTensor('lin_b', [C], l.b), floatTensor('lin_invT', [], [1 / l.temperature]));
    nodes.push(
      node('Gather', ['lin_W', 'rows'], ['lin_g'], [intAttr('axis', 0)]),
      node('MatMul', ['x_u', 'lin_g'], ['lin_s3']),
      node('Squeeze', ['lin_s3', 'axis1'], ['lin_s']),
      node('Add', ['lin_s', 'lin_b'], ['lin_z']),
      node('Mul', ['lin_z', 'lin_invT'], ['lin_zt']),
      node('Softmax', ['lin_zt'], ['lin_p'], [intAttr('axis', -1)]),
    );
    branches.push('lin_p');
  }
  if (model.embedding) {
    const e = model.embedding;
    initializer.push(
      floatTensor('emb_E', [R, e.dim], e.E),
      floatTensor('emb_V', [e.dim, C], e.V),
      floatTensor('emb_c', [C], e.c),
      floatTensor('emb_invT', [], [1 / e.temperature]),
    );
    nodes.push(
      node('Gather', ['emb_E', 'rows'], ['emb_g'], [intAttr('axis', 0)]),
      node('MatMul', ['x_u', 'emb_g'], ['emb_h3']),
      node('Squeeze', ['emb_h3', 'axis1'], ['emb_h']),
      node('MatMul', ['emb_h', 'emb_V'], ['emb_s']),
      node('Add', ['emb_s', 'emb_c'], ['emb_z']),
      node('Mul', ['emb_z', 'emb_invT'], ['emb_zt']),
      node('Softmax', ['emb_zt'], ['emb_p'], [intAttr('axis', -1)]),
    );
    branches.push('emb_p');
  }
  if (branches.length === 2) {
    initializer.push(floatTensor('mix_lin', [], [model.mix]), floatTensor('mix_emb', [], [1 - model.mix]));
    nodes.push(
      node('Mul', ['lin_p', 'mix_lin'], ['lin_pm']),
      node('Mul', ['emb_p', 'mix_emb'], ['emb_pm']),
      node('Add', ['lin_pm', 'emb_pm'], [OUTPUT_PROBABILITIES]),
    );
  } else if (branches.length === 1) nodes.push(node('Identity', [branches[0]], [OUTPUT_PROBABILITIES]));
  else throw new Error('the model has no branch to export');

  const proto: ModelProto = {
    irVersion: 8,
    producerName: 'switchboard-nlp',
    producerVersion: '1',
    graph: {
      name: 'hashed_ngram_classifier',
      node: nodes,
      initializer,
      input: [valueInfo(INPUT_IDS, ONNX_DATA_TYPE.INT64, ['batch', 'features']), valueInfo(INPUT_VALUES, ONNX_DATA_TYPE.FLOAT, ['batch', 'features'])],
      output: [valueInfo(OUTPUT_PROBABILITIES, ONNX_DATA_TYPE.FLOAT, ['batch', C])],
    },
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries({ labels: JSON.stringify(model.labels), ...metadata }).map(([key, value]) => ({ key, value })),
  };
  return encodeModel(proto);
}

function tensorData(tensor: TensorProto): Float32Array | Int32Array {
  const raw = tensor.rawData;
  const count = tensor.dims.reduce((a, b) => a * Number(b), 1);
  if (tensor.dataType === ONNX_DATA_TYPE.FLOAT) {
    if (raw && raw.length) {
      const out = new Float32Array(count);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    return Float32Array.from(tensor.floatData ?? []);
  }
  if (tensor.dataType === ONNX_DATA_TYPE.INT32) {
    if (raw && raw.length) {
      const out = new Int32Array(count);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    return Int32Array.from(tensor.int32Data ?? []);
  }
  throw new Error(`unsupported tensor type ${tensor.dataType} for ${tensor.name}`);
}

/** Reads a graph written by `toOnnx` back into the TypeScript reference model. */
export function fromOnnx(bytes: Uint8Array, featuriser: BagModel['featuriser']): BagModel {
  const proto = decodeModel(bytes);
  const tensors = new Map(proto.graph.initializer.map((t) => [t.name, t]));
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`model.onnx has no initializer ${name}: not a Switchboard hashed-ngram graph`);
    return tensorData(t);
  };
  const scalar = (name: string) => get(name)[0];
  const labelsEntry = proto.metadataProps?.find((p) => p.key === 'labels');
  const labels = labelsEntry ? (JSON.parse(labelsEntry.value) as string[]) : [];
  const idf = get('idf') as Float32Array;
  const model: BagModel = { labels, featuriser, remap: get('remap') as Int32Array, rows: idf.length, idf, mix: 1 };
  if (tensors.has('lin_W')) {
    model.linear = { W: get('lin_W') as Float32Array, b: get('lin_b') as Float32Array, temperature: 1 / scalar('lin_invT') } satisfies LinearBranch;
  }
  if (tensors.has('emb_E')) {
    const V = get('emb_V') as Float32Array;
    const dim = Number(tensors.get('emb_V')!.dims[0]);
    model.embedding = {
      dim,
      E: get('emb_E') as Float32Array,
      V,
      c: get('emb_c') as Float32Array,
      temperature: 1 / scalar('emb_invT'),
    } satisfies EmbeddingBranch;
  }
  if (model.linear && model.embedding) model.mix = scalar('mix_lin');
  return model;
}
