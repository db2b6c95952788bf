import type { GraphContext } from '../weights.js';
import type { AttentionImplementation } from '../layers/attention-implementation.js';
import { conv2d } from './conv.js';
import { groupNorm } from './group-norm.js';

/**
 * LDM `AttnBlock`: single-head self-attention over the H·W positions of `[B, C, H, W]`, with 1×1
 * conv q/k/v, scale C^−½, softmax over keys, 1×1 `proj_out`, residual. Scores and softmax stay
 * float32 for every dtype. `fused` uses com.microsoft `MultiHeadAttention` with one head, which
 * avoids materialising the (H·W)² score tensor on EPs with a memory-efficient kernel.
 */
export function attentionBlock(
  ctx: GraphContext,
  x: string,
  prefix: string,
  channels: number,
  groups: number,
  implementation: AttentionImplementation = 'standard',
): string {
  const { builder } = ctx;
  const normed = groupNorm(ctx, x, `${prefix}.norm`, channels, groups);
  const flatten = builder.constInt64([0, 0, -1]);
  // [B, C, H, W] → [B, C, H·W]
  const flat = (prefixName: string): string => builder.op('Reshape', [conv2d(ctx, normed, prefixName), flatten]);
  const positionsFirst = (tensor: string): string => builder.op('Transpose', [tensor], { perm: [0, 2, 1] });
  const query = positionsFirst(flat(`${prefix}.q`));
  const keyChannelsFirst = flat(`${prefix}.k`);
  const value = positionsFirst(flat(`${prefix}.v`));

  let attended: string; // [B, H·W, C]
  if (implementation === 'fused') {
    attended = builder.op('MultiHeadAttention', [query, positionsFirst(keyChannelsFirst), value], { num_heads: 1 }, 'com.microsoft');
  } else {
    const scaled = builder.op('Mul', [query, builder.constFloat([channels ** -0.5], [])]);
    const weights = builder.op('Softmax', [builder.op('MatMul', [scaled, keyChannelsFirst])], { axis: -1 });
    attended = builder.op('MatMul', [weights, value]);
  }
  const restored = builder.op('Reshape', [positionsFirst(attended), builder.op('Shape', [x])]);
  return builder.op('Add', [x, conv2d(ctx, restored, `${prefix}.proj_out`)]);
}
