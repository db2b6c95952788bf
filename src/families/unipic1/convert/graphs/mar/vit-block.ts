import { geluErf } from '../../../../../convert/graphs/layers/activations.js';
import { layerNorm } from '../../../../../convert/graphs/layers/layer-norm.js';
import { linear } from '../../../../../convert/graphs/layers/linear.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import { MAR_LAYER_NORM_EPSILON, type AttentionImplementation } from './mar-config.js';
import { selfAttention } from './self-attention.js';

/**
 * timm 0.9.12 `Block` (LayerScale and drop-path are identity at inference):
 * `x + attn(norm1(x))`, then `+ fc2(gelu(fc1(norm2(·))))`, with exact-erf GELU.
 */
export function vitBlock(ctx: GraphContext, x: string, prefix: string, heads: number, width: number, attention: AttentionImplementation = 'standard'): string {
  const { builder } = ctx;
  const normed = layerNorm(ctx, x, width, MAR_LAYER_NORM_EPSILON, `${prefix}.norm1.weight`, `${prefix}.norm1.bias`);
  const afterAttention = builder.op('Add', [x, selfAttention(ctx, normed, `${prefix}.attn`, heads, width, attention)]);
  const normed2 = layerNorm(ctx, afterAttention, width, MAR_LAYER_NORM_EPSILON, `${prefix}.norm2.weight`, `${prefix}.norm2.bias`);
  const hidden = geluErf(builder, linear(ctx, normed2, `${prefix}.mlp.fc1.weight`, `${prefix}.mlp.fc1.bias`));
  return builder.op('Add', [afterAttention, linear(ctx, hidden, `${prefix}.mlp.fc2.weight`, `${prefix}.mlp.fc2.bias`)]);
}
