import type { GraphContext } from '../weights.js';
import { applyRotary, type RotaryTables } from './rotary-embedding.js';

/** Shapes of one attention layer. */
export interface AttentionShape {
  numHeads: number;
  numKeyValueHeads: number;
  headDim: number;
}

/** What an attention implementation gets: projections before RoPE, laid out `[B, L, heads·D]`. */
export interface AttentionInputs {
  query: string;
  key: string;
  value: string;
  pastKey: string;
  pastValue: string;
  rotary: RotaryTables;
  /** bool `[B, 1, 1, L, P+L]` from attentionAllowed. */
  allowed: string;
}

export interface AttentionOutputs {
  /** `[B, L, heads·D]`, before o_proj. */
  output: string;
  /** `[B, KVH, P+L, D]`: past ++ new (keys with RoPE applied). */
  presentKey: string;
  presentValue: string;
}

/**
 * One attention block to swap for a fused kernel later (com.microsoft GroupQueryAttention takes
 * the same projections and past tensors).
 */
export type AttentionImplementation = (ctx: GraphContext, inputs: AttentionInputs, shape: AttentionShape) => AttentionOutputs;

const FLOAT32_LOWEST = -3.4028234663852886e38;

/**
 * HF Qwen2 "eager" attention in standard ops, float32 throughout: scores = q·kᵀ·D^−½, masked to the
 * lowest float32 (so a row with nothing visible would fall back to uniform weights, as HF's additive
 * mask does), softmax, ·v. Grouped-query heads are handled by a `[B, KVH, G, L, ·]` layout that
 * broadcasts each key/value head over its G query heads instead of copying it.
 */
export const eagerAttention: AttentionImplementation = (ctx, inputs, shape) => {
  const { builder } = ctx;
  const { numHeads, numKeyValueHeads, headDim } = shape;
  const group = numHeads / numKeyValueHeads;

  const query = applyRotary(ctx, builder.op('Reshape', [inputs.query, builder.constInt64([0, 0, numHeads, headDim])]), inputs.rotary, headDim);
  const key = applyRotary(ctx, builder.op('Reshape', [inputs.key, builder.constInt64([0, 0, numKeyValueHeads, headDim])]), inputs.rotary, headDim);
  const value = builder.op('Reshape', [inputs.value, builder.constInt64([0, 0, numKeyValueHeads, headDim])]);

  const headsFirst = [0, 2, 1, 3];
  const presentKey = builder.op('Concat', [inputs.pastKey, builder.op('Transpose', [key], { perm: headsFirst })], { axis: 2 });
  const presentValue = builder.op('Concat', [inputs.pastValue, builder.op('Transpose', [value], { perm: headsFirst })], { axis: 2 });

  // [B, L, KVH·G, D] → [B, KVH, G, L, D]: head h uses key/value head ⌊h / G⌋, as HF repeat_kv.
  const groupedQuery = builder.op('Transpose', [builder.op('Reshape', [query, builder.constInt64([0, 0, numKeyValueHeads, group, headDim])])], {
    perm: [0, 2, 3, 1, 4],
  });
  const keyColumns = builder.op('Transpose', [builder.op('Unsqueeze', [presentKey, builder.constInt64([2])])], { perm: [0, 1, 2, 4, 3] });
  const scores = builder.op('Mul', [builder.op('MatMul', [groupedQuery, keyColumns]), builder.constFloat([1 / Math.sqrt(headDim)], [])]);
  const masked = builder.op('Where', [inputs.allowed, scores, builder.constFloat([FLOAT32_LOWEST], [])]);
  const weights = builder.op('Softmax', [masked], { axis: -1 });
  const context = builder.op('MatMul', [weights, builder.op('Unsqueeze', [presentValue, builder.constInt64([2])])]);
  const output = builder.op('Reshape', [builder.op('Transpose', [context], { perm: [0, 3, 1, 2, 4] }), builder.constInt64([0, 0, numHeads * headDim])]);
  return { output, presentKey, presentValue };
};
