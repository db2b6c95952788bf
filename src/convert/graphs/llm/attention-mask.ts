import type { GraphContext } from '../weights.js';

const BOOL = 9;

/**
 * Which keys each query may see, bool `[B, 1, 1, L, T]` (T = P + L), broadcastable over the
 * grouped-query score layout `[B, KVH, G, L, T]`. Query j sits at absolute index P + j (bottom-right
 * alignment) and sees key k iff k ≤ P + j and `attention_mask[b, k] = 1`; holes in the mask
 * (right-padded prefixes of different lengths) are simply never attended.
 */
export function attentionAllowed(ctx: GraphContext, attentionMask: string, inputsEmbeds: string): string {
  const { builder } = ctx;
  const zero = builder.constInt64([0], []);
  const one = builder.constInt64([1], []);
  const total = scalarDim(ctx, attentionMask, 1);
  const queries = scalarDim(ctx, inputsEmbeds, 1);
  const keyIndex = builder.op('Range', [zero, total, one]);
  const queryIndex = builder.op('Range', [builder.op('Sub', [total, queries]), total, one]);
  const causal = builder.op('LessOrEqual', [keyIndex, builder.op('Unsqueeze', [queryIndex, builder.constInt64([1])])]);
  const padding = builder.op('Unsqueeze', [builder.op('Cast', [attentionMask], { to: BOOL }), builder.constInt64([1, 2, 3])]);
  return builder.op('And', [causal, padding]);
}

/** Dimension `axis` of `tensor` as an int64 scalar. */
export function scalarDim(ctx: GraphContext, tensor: string, axis: number): string {
  const { builder } = ctx;
  const dim = builder.op('Shape', [tensor], { start: axis, end: axis + 1 });
  return builder.op('Squeeze', [dim, builder.constInt64([0])]);
}
