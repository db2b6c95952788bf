import type { Dtype } from '../../../../../src/spec/manifest.js';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { GraphBuilder } from '../../../../../src/convert/onnx/graph-builder.js';
import { MemoryWeightSink } from '../../../../../src/convert/onnx/weight-sink.js';
import type { GraphContext, WeightSource } from '../../../../../src/convert/graphs/weights.js';

/** Test helpers shared by the layer, llm and diffusion graph tests. */

export type Runtime = 'node' | 'web';

export interface BuiltGraph {
  bytes: Uint8Array;
  data: Uint8Array;
}

export function makeContext(weights: WeightSource, dtype: Dtype = 'fp32'): { ctx: GraphContext; finish: () => BuiltGraph } {
  const sink = new MemoryWeightSink('graph.data');
  const builder = new GraphBuilder('test', sink);
  return { ctx: { builder, weights, dtype }, finish: () => ({ bytes: builder.toBytes(), data: sink.bytes() }) };
}

export type Feed = { type: 'float32'; data: Float32Array; dims: number[] } | { type: 'int64'; data: BigInt64Array; dims: number[] };

export function floatFeed(data: ArrayLike<number>, dims: number[]): Feed {
  return { type: 'float32', data: Float32Array.from(data), dims };
}

export function int64Feed(data: ArrayLike<number>, dims: number[]): Feed {
  return { type: 'int64', data: BigInt64Array.from(Array.from(data, (v) => BigInt(v))), dims };
}

export interface Output {
  data: Float32Array;
  dims: readonly number[];
}

/** Run a built graph once on ort-node CPU or ort-web wasm (single thread), float outputs only. */
export async function runGraph(graph: BuiltGraph, feeds: Record<string, Feed>, runtime: Runtime = 'node'): Promise<Record<string, Output>> {
  if (runtime === 'web') {
    ortWeb.env.wasm.numThreads = 1;
    const session = await ortWeb.InferenceSession.create(graph.bytes, sessionOptions(graph));
    try {
      const inputs: Record<string, ortWeb.Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) inputs[name] = new ortWeb.Tensor(feed.type, feed.data, feed.dims);
      const out = await session.run(inputs);
      return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: t.dims }]));
    } finally {
      await session.release();
    }
  }
  const session = await ortNode.InferenceSession.create(graph.bytes, sessionOptions(graph));
  try {
    const inputs: Record<string, ortNode.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) inputs[name] = new ortNode.Tensor(feed.type, feed.data, feed.dims);
    const out = await session.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: t.dims }]));
  } finally {
    await session.release();
  }
}

// ORT refuses an empty external-data buffer ("contains null pointers"): tiny graphs have none.
function sessionOptions(graph: BuiltGraph): { externalData?: { path: string; data: Uint8Array }[] } {
  return graph.data.length > 0 ? { externalData: [{ path: 'graph.data', data: graph.data }] } : {};
}

/** Deterministic uniform values in [−scale, scale) (mulberry32), for random weights and inputs. */
export function randomArray(count: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (unit * 2 - 1) * scale;
  }
  return out;
}

/**
 * Largest |actual − expected| / (|expected| + floor) over all elements; `floor` keeps values near
 * zero from dominating (they are compared on an absolute scale of `floor`).
 */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-2): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i] - expected[i]) / (Math.abs(expected[i]) + floor);
    if (!(error <= worst)) worst = Number.isNaN(error) ? Number.POSITIVE_INFINITY : Math.max(worst, error);
  }
  return worst;
}

/** max |actual − expected| / max |expected|: error on the scale of the whole tensor. */
export function maxNormalizedError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(error) ? Number.POSITIVE_INFINITY : Math.max(worst, error);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return worst / scale;
}
