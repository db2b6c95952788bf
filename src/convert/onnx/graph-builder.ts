import { onnx } from './proto.js';
import type { WeightSink } from './weight-sink.js';

export type ElementType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';

const ELEMENT: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

export type Dim = number | string;
export type AttributeValue = number | string | number[] | string[] | { tensor: onnx.ITensorProto } | { float: number } | { graph: onnx.IGraphProto };

/** Initializers smaller than this stay inside the .onnx file; larger go to the weight sink. */
const INLINE_LIMIT = 1024;

/**
 * Builds an ONNX graph op by op (the onnxruntime-genai model-builder way, not tracing). Node
 * outputs get unique names from the op type; weights stream to a sink as they are added. Nodes
 * are named by path, `/<graph>/<scope path>/<OpType>` (see `scoped`), so a profile or an ORT error
 * points at the layer that made the node.
 */
export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();
  private readonly freshNames = new Set<string>();
  private readonly initializerNames = new Set<string>();
  private counter = 0;
  private readonly constantCache = new Map<string, string>();
  private readonly scopes: string[] = [];
  private readonly nodeNames = new Set<string>();

  constructor(
    readonly graphName: string,
    private readonly sink?: WeightSink,
  ) {}

  /**
   * Run `build` with `segment` (one path segment, or several joined by `/`) appended to the scope
   * path that default node names carry; the scope is restored even if `build` throws.
   */
  scoped<T>(segment: string, build: () => T): T {
    const added = segment.split('/').filter((part) => part.length > 0);
    this.scopes.push(...added);
    try {
      return build();
    } finally {
      this.scopes.length -= added.length;
    }
  }

  /**
   * Run `build` scoped by a checkpoint tensor name (`llm.model.layers.3.self_attn.q_proj.weight`
   * → `llm/model/layers.3/self_attn/q_proj`). Segments the current scope already ends with are
   * not repeated, so a helper scoped by its weight inside a layer scope names one path.
   */
  scopedByWeight<T>(weightName: string, build: () => T): T {
    const path = weightPath(weightName);
    let shared = Math.min(this.scopes.length, path.length);
    while (shared > 0 && !endsWith(this.scopes, path.slice(0, shared))) shared--;
    return this.scoped(path.slice(shared).join('/'), build);
  }

  /** The current default name for a node of `opType`, unique within this graph. */
  private nodeName(opType: string): string {
    const base = `/${[this.graphName, ...this.scopes, opType].join('/')}`;
    let name = base;
    for (let n = 1; this.nodeNames.has(name); n++) name = `${base}_${n}`;
    return name;
  }

  /** A fresh, unique tensor name. */
  fresh(hint: string): string {
    let name = `${hint}_${this.counter++}`;
    while (this.names.has(name)) name = `${hint}_${this.counter++}`;
    this.names.add(name);
    this.freshNames.add(name);
    return name;
  }

  input(name: string, type: ElementType, shape: readonly Dim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** Declare `value` as a graph output called `name` (adds an Identity if the names differ). */
  output(value: string, name: string, type: ElementType, shape: readonly Dim[]): void {
    if (value !== name) this.node('Identity', [value], { outputs: [name] });
    this.names.add(name);
    this.outputs.push(valueInfo(name, type, shape));
  }

  /**
   * Add a weight. Bytes are little-endian raw data of `type`. Large ones go to external data
   * immediately, so the caller may drop its buffer right after.
   */
  initializer(name: string, type: ElementType, dims: readonly number[], bytes: Uint8Array): string {
    if (this.initializerNames.has(name) || (this.names.has(name) && !this.freshNames.has(name))) {
      throw new Error(`duplicate tensor name ${name}`);
    }
    this.names.add(name);
    this.initializerNames.add(name);
    const tensor: onnx.ITensorProto = { name, dataType: ELEMENT[type], dims: dims.slice() };
    if (this.sink && bytes.length > INLINE_LIMIT) {
      const loc = this.sink.write(bytes);
      tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      tensor.externalData = [
        { key: 'location', value: loc.location },
        { key: 'offset', value: String(loc.offset) },
        { key: 'length', value: String(loc.length) },
      ];
    } else {
      tensor.rawData = bytes.slice();
    }
    this.initializers.push(tensor);
    return name;
  }

  /** Whether a weight called `name` was added (a graph that reads a weight in several places adds it once). */
  hasInitializer(name: string): boolean {
    return this.initializerNames.has(name);
  }

  floatInitializer(name: string, dims: readonly number[], data: Float32Array): string {
    return this.initializer(name, 'float32', dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** A small constant tensor (deduplicated), kept inline. */
  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constantCache.get(key);
    if (hit) return hit;
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    const name = this.initializer(this.fresh('const_i64'), 'int64', dims, new Uint8Array(data.buffer));
    this.constantCache.set(key, name);
    return name;
  }

  constFloat(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constantCache.get(key);
    if (hit) return hit;
    const data = new Float32Array(values);
    const name = this.initializer(this.fresh('const_f32'), 'float32', dims, new Uint8Array(data.buffer));
    this.constantCache.set(key, name);
    return name;
  }

  /** Add a node; returns its output names (one unless `outputs` or `outputCount` says more). */
  node(
    opType: string,
    inputs: readonly string[],
    options: {
      attributes?: Record<string, AttributeValue>;
      outputs?: readonly string[];
      outputCount?: number;
      domain?: string;
      name?: string;
    } = {},
  ): string[] {
    const outputs = options.outputs?.slice() ?? Array.from({ length: options.outputCount ?? 1 }, () => this.fresh(opType.toLowerCase()));
    for (const o of outputs) this.names.add(o);
    const name = options.name ?? this.nodeName(opType);
    this.nodeNames.add(name);
    this.nodes.push({
      opType,
      input: inputs.slice(),
      output: outputs,
      name,
      domain: options.domain ?? '',
      attribute: Object.entries(options.attributes ?? {}).map(([key, value]) => attribute(key, value)),
    });
    return outputs;
  }

  /** Single-output shorthand. */
  op(opType: string, inputs: readonly string[], attributes?: Record<string, AttributeValue>, domain?: string): string {
    return this.node(opType, inputs, { attributes, domain })[0];
  }

  /** The graph as a GraphProto (a control-flow node's branch or body takes it as an attribute). */
  toGraph(): onnx.IGraphProto {
    return { name: this.graphName, node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers };
  }

  /** Serialise to ModelProto bytes (IR 10, opset 21 + com.microsoft 1). */
  toBytes(): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: 10,
      producerName: 'unipic-converter',
      opsetImport: [
        { domain: '', version: 21 },
        { domain: 'com.microsoft', version: 1 },
      ],
      graph: this.toGraph(),
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

/**
 * Path segments of a checkpoint tensor name: dots split segments, a numeric segment stays joined
 * to the one before (`layers.3`), and a trailing `weight`/`bias` is dropped (it names the tensor,
 * not the module).
 */
export function weightPath(weightName: string): string[] {
  const parts = weightName.split('.');
  if (parts.length > 1 && (parts[parts.length - 1] === 'weight' || parts[parts.length - 1] === 'bias')) parts.pop();
  const path: string[] = [];
  for (const part of parts) {
    if (/^\d+$/.test(part) && path.length > 0) path[path.length - 1] += `.${part}`;
    else path.push(part);
  }
  return path;
}

function endsWith(stack: readonly string[], tail: readonly string[]): boolean {
  const offset = stack.length - tail.length;
  return offset >= 0 && tail.every((part, i) => stack[offset + i] === part);
}

function valueInfo(name: string, type: ElementType, shape: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) {
      const nums = value as number[];
      return nums.every(Number.isInteger) ? { name, type: T.INTS, ints: nums } : { name, type: T.FLOATS, floats: nums };
    }
    return { name, type: T.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) };
  }
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('graph' in value) return { name, type: T.GRAPH, g: value.graph };
  return { name, type: T.TENSOR, t: value.tensor };
}
