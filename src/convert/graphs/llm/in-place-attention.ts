import type { GraphContext } from '../weights.js';
import { attentionAllowed, scalarDim } from './attention-mask.js';
import type { AttentionImplementation } from './eager-attention.js';
import { applyRotary } from './rotary-embedding.js';
import type { InPlaceKvLayout } from '../../../spec/manifest.js';
import type { Dim, GraphBuilder } from '../../onnx/graph-builder.js';
import { ifElse } from '../../onnx/if-node.js';

const FLOAT32_LOWEST = -3.4028234663852886e38;

/** Masks of the in-place layout: the cache slots `[B, 1, 1, 1, C]` and the new positions `[B, 1, 1, L, L]`. */
export interface InPlaceMasks {
  readonly slots: string;
  readonly fresh: string;
  /** bool scalar: the run has one new position per row (a decode step). */
  readonly single: string;
  /** bool scalar: the cache has no slots (C = 0). */
  readonly empty: string;
}

/**
 * Splits `attention_mask [B, C + L]` into the slot mask and the causal mask of the new positions.
 * `capacity` is the cache's slot count, an int64 scalar (`scalarDim` of a past buffer).
 */
export function inPlaceMasks(ctx: GraphContext, attentionMask: string, inputsEmbeds: string, capacity: string): InPlaceMasks {
  const { builder } = ctx;
  const end = builder.op('Unsqueeze', [capacity, builder.constInt64([0])]);
  const axis = builder.constInt64([1]);
  const slotPart = builder.op('Slice', [attentionMask, builder.constInt64([0]), end, axis]);
  const freshPart = builder.op('Slice', [attentionMask, end, builder.constInt64([Number.MAX_SAFE_INTEGER]), axis]);
  const slots = builder.op('Unsqueeze', [builder.op('Cast', [slotPart], { to: 9 }), builder.constInt64([1, 2, 3])]);
  const single = builder.op('Equal', [scalarDim(ctx, inputsEmbeds, 1), builder.constInt64([1], [])]);
  const empty = builder.op('Equal', [capacity, builder.constInt64([0], [])]);
  return { slots, fresh: attentionAllowed(ctx, freshPart, inputsEmbeds), single, empty };
}

/**
 * Attention over an in-place cache: the same HF eager arithmetic as `eagerAttention` (float32,
 * masked to the lowest float, one softmax over cache and new positions), but the cache is only
 * read — scores against the key buffer and against the new keys are concatenated (`[…, C + L]`,
 * small), and the weights split again for the two value products — and the outputs are the new
 * positions' keys (RoPE applied) and values alone. `inputs.allowed` must be the `fresh` mask of
 * `inPlaceMasks`; `layout` is the buffers' (`LLM_IN_PLACE_GRAPHS`).
 */
export function inPlaceAttention(masks: InPlaceMasks, layout: InPlaceKvLayout = 'values-transposed'): AttentionImplementation {
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
    const cache = cacheProducts(ctx, masks, layout, shape);
    const slotScores = builder.op('Reshape', [cache.scores(queryRows, inputs.pastKey), grouped]);
    const newScores = builder.op('Reshape', [builder.op('Mul', [builder.op('MatMul', [queryRows, lastTwoSwapped(ctx, newKey)]), scale]), grouped]);
    const allScores = builder.op('Concat', [builder.op('Where', [masks.slots, slotScores, lowest]), builder.op('Where', [inputs.allowed, newScores, lowest])], {
      axis: -1,
    });
    const weights = builder.op('Softmax', [allScores], { axis: -1 });
    const sizes = builder.op('Concat', [builder.op('Shape', [slotScores], { start: -1 }), builder.op('Shape', [newScores], { start: -1 })], { axis: 0 });
    const [slotWeights, newWeights] = builder.node('Split', [weights, sizes], { attributes: { axis: -1 }, outputCount: 2 });
    const slotContext = cache.values(builder.op('Reshape', [slotWeights, rows]), inputs.pastValue);
    const contextRows = builder.op('Add', [slotContext, builder.op('MatMul', [builder.op('Reshape', [newWeights, rows]), newValue])]);
    const context = builder.op('Reshape', [contextRows, builder.constInt64([0, 0, group, -1, headDim])]);
    const output = builder.op('Reshape', [builder.op('Transpose', [context], { perm: [0, 3, 1, 2, 4] }), builder.constInt64([0, 0, numHeads * headDim])]);
    return { output, presentKey: newKey, presentValue: newValue };
  };
}

/** `[…, m, n]` → `[…, n, m]`. */
function lastTwoSwapped(ctx: GraphContext, tensor: string): string {
  return ctx.builder.op('Transpose', [tensor], { perm: [0, 1, 3, 2] });
}

/**
 * The two products against the cache buffers, `rows [B, KVH, R, D]` → scaled scores `[B, KVH, R, C]`,
 * and weights `[B, KVH, R, C]` → context `[B, KVH, R, D]` (R = G·L query rows).
 *
 * MLAS (onnxruntime's CPU SGEMM) copies ("packs") the right-hand matrix of every product and reads
 * the left-hand one in place. In a decode step R = G (6 for the 1.5B) and the cache is by far the
 * larger operand, so it goes on the left: `K [C, D] × rowsᵀ` and `Vᵀ [D, C] × weightsᵀ`, the small
 * `[C, R]` / `[D, R]` results transposed back. That is why `values-transposed` stores the values
 * transposed and the keys as they come. With many rows (prefill, a chunk) the score matrix is
 * the larger operand and the left-hand form would transpose it twice (far slower per prefill chunk:
 * docs/performance.md, "Issue 18 §1–§2"), so an `If` on the run's length takes the usual
 * `rows × cacheᵀ` form there.
 * `keys-transposed`, the first in-place layout, has the cache on the right in both.
 */
function cacheProducts(ctx: GraphContext, masks: InPlaceMasks, layout: InPlaceKvLayout, shape: { readonly headDim: number }) {
  const { builder } = ctx;
  const scale = builder.constFloat([1 / Math.sqrt(shape.headDim)], []);
  if (layout === 'keys-transposed') {
    return {
      scores: (rows: string, keyColumns: string) => builder.op('Mul', [builder.op('MatMul', [rows, keyColumns]), scale]),
      values: (weights: string, values: string) => builder.op('MatMul', [weights, values]),
    };
  }
  const swap = (b: GraphBuilder, tensor: string) => b.op('Transpose', [tensor], { perm: [0, 1, 3, 2] });
  const byLength = (name: string, output: readonly Dim[], decode: (b: GraphBuilder) => string, prefill: (b: GraphBuilder) => string) =>
    ifElse(builder, masks.single, { name, output: { type: 'float32', shape: output }, whenTrue: decode, whenFalse: prefill });
  return {
    scores: (rows: string, keys: string) =>
      byLength(
        'slot_scores',
        ['batch', 'heads_kv', 'rows', 'capacity'],
        (b) => swap(b, b.op('Mul', [b.op('MatMul', [keys, swap(b, rows)]), scale])),
        (b) => b.op('Mul', [b.op('MatMul', [rows, swap(b, keys)]), scale]),
      ),
    // onnxruntime fuses each Transpose into the product (FusedMatMul), which, unlike MatMul, leaves
    // its output unset when the summed dimension is empty: an empty cache contributes zeros.
    values: (weights: string, valueColumns: string) =>
      builder.op('Where', [
        masks.empty,
        builder.constFloat([0], []),
        byLength(
          'slot_context',
          ['batch', 'heads_kv', 'rows', shape.headDim],
          (b) => swap(b, b.op('MatMul', [valueColumns, swap(b, weights)])),
          (b) => b.op('MatMul', [weights, swap(b, valueColumns)]),
        ),
      ]),
  };
}
