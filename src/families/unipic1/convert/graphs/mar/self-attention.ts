import { InvalidModelError } from '../../../../../errors/invalid-model-error.js';
import { linear } from '../../../../../convert/graphs/layers/linear.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import type { AttentionImplementation } from './mar-config.js';

/**
 * timm `Attention` over `x [B, S, width]`, bidirectional, no mask: packed `qkv` projection (rows
 * ordered q, k, v, each head-major), softmax(q·kᵀ/√d)·v per head, then `proj`. `prefix` is the
 * module path, e.g. `mar.encoder_blocks.3.attn`. Softmax and the score products stay float32 for
 * every graph dtype; only the projections follow it.
 */
export function selfAttention(
  ctx: GraphContext,
  x: string,
  prefix: string,
  heads: number,
  width: number,
  implementation: AttentionImplementation = 'standard',
): string {
  const { builder } = ctx;
  if (width % heads !== 0) throw new InvalidModelError(`attention width ${width} is not divisible by ${heads} heads`);
  const headDim = width / heads;
  const qkv = linear(ctx, x, `${prefix}.qkv.weight`, `${prefix}.qkv.bias`);
  const [query, key, value] = builder.node('Split', [qkv, builder.constInt64([width, width, width])], {
    attributes: { axis: -1 },
    outputCount: 3,
  });

  const attended =
    implementation === 'fused'
      ? builder.op('MultiHeadAttention', [query, key, value], { num_heads: heads }, 'com.microsoft')
      : standardAttention(ctx, query, key, value, heads, headDim);
  return linear(ctx, attended, `${prefix}.proj.weight`, `${prefix}.proj.bias`);
}

/** `[B, S, heads·headDim]` q, k, v → `[B, S, heads·headDim]`, with explicit score tensors. */
function standardAttention(ctx: GraphContext, query: string, key: string, value: string, heads: number, headDim: number): string {
  const { builder } = ctx;
  // 0 in a Reshape target copies the input's dim, so batch and sequence stay symbolic.
  const splitHeads = builder.constInt64([0, 0, heads, headDim]);
  const perHead = (tensor: string, perm: number[]): string => builder.op('Transpose', [builder.op('Reshape', [tensor, splitHeads])], { perm });
  // Scaling q before the product, as timm's unfused path does; it touches S·d values, not S².
  const scaledQuery = builder.op('Mul', [perHead(query, [0, 2, 1, 3]), builder.constFloat([headDim ** -0.5], [])]);
  const keyTransposed = perHead(key, [0, 2, 3, 1]);
  const scores = builder.op('MatMul', [scaledQuery, keyTransposed]);
  const weights = builder.op('Softmax', [scores], { axis: -1 });
  const context = builder.op('MatMul', [weights, perHead(value, [0, 2, 1, 3])]);
  const merged = builder.op('Transpose', [context], { perm: [0, 2, 1, 3] });
  return builder.op('Reshape', [merged, builder.constInt64([0, 0, heads * headDim])]);
}
