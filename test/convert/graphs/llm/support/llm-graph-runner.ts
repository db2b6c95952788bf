import type { Dtype } from '../../../../../src/spec/manifest.js';
import { buildLlmGraph, type LlmConfig, type LlmGraphOptions } from '../../../../../src/convert/graphs/llm/llm-graph.js';
import type { MemoryWeights } from '../../../../../src/convert/graphs/weights.js';
import { floatFeed, int64Feed, makeContext, runGraph, type BuiltGraph, type Feed, type Output, type Runtime } from '../../layers/support/graph-runner.js';

export function buildLlm(weights: MemoryWeights, llm: LlmConfig, dtype: Dtype = 'fp32', options: LlmGraphOptions = {}): BuiltGraph {
  const { ctx, finish } = makeContext(weights, dtype);
  buildLlmGraph(ctx, { llm }, options);
  return finish();
}

export interface LlmCall {
  batch: number;
  length: number;
  inputsEmbeds: ArrayLike<number>;
  attentionMask: ArrayLike<number>;
  positionIds: ArrayLike<number>;
  pastLength: number;
  /** per layer `[B, KVH, P, D]`; empty arrays when P = 0 */
  past: { key: ArrayLike<number>; value: ArrayLike<number> }[];
}

export async function runLlm(graph: BuiltGraph, llm: LlmConfig, call: LlmCall, runtime: Runtime = 'node'): Promise<Record<string, Output>> {
  const { batch: B, length: L, pastLength: P } = call;
  const feeds: Record<string, Feed> = {
    inputs_embeds: floatFeed(call.inputsEmbeds, [B, L, llm.hiddenSize]),
    attention_mask: int64Feed(call.attentionMask, [B, P + L]),
    position_ids: int64Feed(call.positionIds, [B, L]),
  };
  for (let i = 0; i < llm.numLayers; i++) {
    const dims = [B, llm.numKeyValueHeads, P, llm.headDim];
    feeds[`past_key_values.${i}.key`] = floatFeed(call.past[i]?.key ?? [], dims);
    feeds[`past_key_values.${i}.value`] = floatFeed(call.past[i]?.value ?? [], dims);
  }
  return runGraph(graph, feeds, runtime);
}

export function emptyPast(llm: LlmConfig): { key: number[]; value: number[] }[] {
  return Array.from({ length: llm.numLayers }, () => ({ key: [], value: [] }));
}

/** Slice positions [from, to) of the sequence axis of a `[B, KVH, T, D]` cache. */
export function sliceCache(data: ArrayLike<number>, llm: LlmConfig, batch: number, total: number, from: number, to: number): Float32Array {
  const { numKeyValueHeads: KVH, headDim: D } = llm;
  const out = new Float32Array(batch * KVH * (to - from) * D);
  let at = 0;
  for (let bh = 0; bh < batch * KVH; bh++) for (let t = from; t < to; t++) for (let d = 0; d < D; d++) out[at++] = data[(bh * total + t) * D + d];
  return out;
}
