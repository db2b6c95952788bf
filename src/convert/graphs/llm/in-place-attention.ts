import type { GraphContext } from '../weights.js';
import { attentionAllowed, scalarDim } from './attention-mask.js';
import type { AttentionImplementation } from './eager-attention.js';
import { applyRotary } from './rotary-embedding.js';

const FLOAT32_LOWEST = -3.4028234663852886e38;

/** Masks of the in-place layout: the cache slots `[B, 1, 1, 1, C]` and the new positions `[B, 1, 1, L, L]`. */
export interface InPlaceMasks {
  readonly slots: string;
  readonly fresh: string;
}

/** Splits `attention_mask [B, C + L]` into the slot mask and the causal mask of the new positions. */
export function inPlaceMasks(ctx: GraphContext, attentionMask: string, inputsEmbeds: string, pastKeyT: string): InPlaceMasks {
  const { builder } = ctx;
  const capacity = builder.op('Unsqueeze', [scalarDim(ctx, pastKeyT, 3), builder.constInt64([0])]);
  const axis = builder.constInt64([1]);
  const slotPart = builder.op('Slice', [attentionMask, builder.constInt64([0]), capacity, axis]);
  const freshPart = builder.op('Slice', [attentionMask, capacity, builder.constInt64([Number.MAX_SAFE_INTEGER]), axis]);
  const slots = builder.op('Unsqueeze', [builder.op('Cast', [slotPart], { to: 9 }), builder.constInt64([1, 2, 3])]);
  return { slots, fresh: attentionAllowed(ctx, freshPart, inputsEmbeds) };
}

/**
 * Attention over an in-place cache: the same HF eager arithmetic as `eagerAttention` (float32,
 * masked to the lowest float, one softmax over cache and new positions), but the cache is only
 * read — scores against the transposed key buffer and against the new keys are concatenated
 * (`[…, C + L]`, small), and the weights split again for the two value products — and the outputs
 * are the new positions' keys (RoPE applied) and values alone. `inputs.allowed` must be the
 * `fresh` mask and `slots` the slot mask of `inPlaceMasks`.
 */
export function inPlaceAttention(slots: string): AttentionImplementation {
  return (ctx, inputs, shape) => {
    const { builder } = ctx;
    const { numHeads, numKeyValueHeads, headDim } = shape;
    const group = numHeads / numKeyValueHeads;
    const query = applyRotary(ctx, builder.op('Reshape', [inputs.query, builder.constInt64([0, 0, numHeads, headDim])]), inputs.rotary, headDim);
    const key = applyRotary(ctx, builder.op('Reshape', [inputs.key, builder.constInt64([0, 0, numKeyValueHeads, headDim])]), inputs.rotary, headDim);
    const value = builder.op('Reshape', [inputs.value, builder.constInt64([0, 0, numKeyValueHeads, headDim])]);
    const headsFirst = [0, 2, 1, 3];
    const newKey = builder.op('Transpose', [key], { perm: headsFirst });
    const newValue = builder.op('Transpose', [value], { perm: headsFirst });

    // [B, L, KVH·G, D] → [B, KVH, G, L, D]: query head h uses key/value head ⌊h / G⌋, as HF repeat_kv.
    const groupedQuery = builder.op('Transpose', [builder.op('Reshape', [query, builder.constInt64([0, 0, numKeyValueHeads, group, headDim])])], {
      perm: [0, 2, 3, 1, 4],
    });
    const scale = builder.constFloat([1 / Math.sqrt(headDim)], []);
    const lowest = builder.constFloat([FLOAT32_LOWEST], []);
    // The products take a key/value head's G query heads as the rows of one matrix, [B, KVH, G·L, D]:
    // broadcast over G instead, each of the G rows would be a separate product re-reading the
    // whole cache head (G = 6 passes over the cache per step; docs/performance.md, "Issue 18 §1–§2").
    const queryRows = builder.op('Reshape', [groupedQuery, builder.constInt64([0, 0, -1, headDim])]);
    const rows = builder.op('Concat', [builder.op('Shape', [queryRows], { end: 3 }), builder.constInt64([-1])], { axis: 0 });
    const grouped = builder.op('Concat', [builder.op('Shape', [groupedQuery], { end: 4 }), builder.constInt64([-1])], { axis: 0 });
    const scores = (keyColumns: string) => builder.op('Reshape', [builder.op('Mul', [builder.op('MatMul', [queryRows, keyColumns]), scale]), grouped]);
    const slotScores = scores(inputs.pastKey);
    const newScores = scores(builder.op('Transpose', [newKey], { perm: [0, 1, 3, 2] }));
    const allScores = builder.op('Concat', [builder.op('Where', [slots, slotScores, lowest]), builder.op('Where', [inputs.allowed, newScores, lowest])], {
      axis: -1,
    });
    const weights = builder.op('Softmax', [allScores], { axis: -1 });
    const sizes = builder.op('Concat', [builder.op('Shape', [slotScores], { start: -1 }), builder.op('Shape', [newScores], { start: -1 })], { axis: 0 });
    const [slotWeights, newWeights] = builder.node('Split', [weights, sizes], { attributes: { axis: -1 }, outputCount: 2 });
    const weighted = (part: string, values: string) => builder.op('MatMul', [builder.op('Reshape', [part, rows]), values]);
    const contextRows = builder.op('Add', [weighted(slotWeights, inputs.pastValue), weighted(newWeights, newValue)]);
    const context = builder.op('Reshape', [contextRows, builder.constInt64([0, 0, group, -1, headDim])]);
    const output = builder.op('Reshape', [builder.op('Transpose', [context], { perm: [0, 3, 1, 2, 4] }), builder.constInt64([0, 0, numHeads * headDim])]);
    return { output, presentKey: newKey, presentValue: newValue };
  };
}
