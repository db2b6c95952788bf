import { attendHeads } from '../layers/attention.js';
import { linear } from '../layers/linear.js';
import type { GraphContext } from '../weights.js';
import { groupNorm } from './group-norm.js';

/**
 * diffusers' VAE mid-block `Attention` (`_from_deprecated_attn_block`): GroupNorm, then one head
 * over the H·W positions of `[B, C, H, W]` with Linear `to_q`/`to_k`/`to_v` (bias), scale C^−½,
 * `to_out.0`, and the residual. Scores and softmax stay float32.
 */
export function linearAttentionBlock(ctx: GraphContext, x: string, prefix: string, channels: number, groups: number): string {
  const { builder } = ctx;
  const normed = groupNorm(ctx, x, `${prefix}.group_norm`, channels, groups);
  // [B, C, H, W] → [B, 1, H·W, C]: one head, positions as the sequence.
  const tokens = builder.op('Unsqueeze', [
    builder.op('Transpose', [builder.op('Reshape', [normed, builder.constInt64([0, 0, -1])])], { perm: [0, 2, 1] }),
    builder.constInt64([1]),
  ]);
  const project = (name: string): string => linear(ctx, tokens, `${prefix}.${name}.weight`, `${prefix}.${name}.bias`);
  const attended = attendHeads(builder, project('to_q'), project('to_k'), project('to_v'), channels);
  const out = linear(ctx, builder.op('Squeeze', [attended, builder.constInt64([1])]), `${prefix}.to_out.0.weight`, `${prefix}.to_out.0.bias`);
  const restored = builder.op('Reshape', [builder.op('Transpose', [out], { perm: [0, 2, 1] }), builder.op('Shape', [x])]);
  return builder.op('Add', [x, restored]);
}
