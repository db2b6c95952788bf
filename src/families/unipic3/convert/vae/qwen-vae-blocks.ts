import { InvalidModelError } from '../../../../errors/invalid-model-error.js';
import { silu } from '../../../../convert/graphs/layers/activations.js';
import type { GraphContext } from '../../../../convert/graphs/weights.js';
import { conv2d, convOutputChannels } from '../../../../convert/graphs/vae/conv.js';
import { channelL2Norm } from './channel-l2-norm.js';

export type VaeAttention = 'standard' | 'fused';

/** `QwenImageResidualBlock` on one frame: L2-norm, SiLU, conv, L2-norm, SiLU, conv, plus the (1×1) shortcut. */
export function qwenResidualBlock(ctx: GraphContext, x: string, prefix: string, inChannels: number): { output: string; channels: number } {
  const { builder, weights } = ctx;
  const outChannels = convOutputChannels(ctx, `${prefix}.conv1`);
  let h = conv2d(ctx, silu(builder, channelL2Norm(ctx, x, `${prefix}.norm1.gamma`, inChannels)), `${prefix}.conv1`);
  h = conv2d(ctx, silu(builder, channelL2Norm(ctx, h, `${prefix}.norm2.gamma`, outChannels)), `${prefix}.conv2`);
  let shortcut = x;
  if (weights.has(`${prefix}.conv_shortcut.weight`)) shortcut = conv2d(ctx, x, `${prefix}.conv_shortcut`);
  else if (inChannels !== outChannels) throw new InvalidModelError(`${prefix} changes ${inChannels} → ${outChannels} channels but has no conv_shortcut`);
  return { output: builder.op('Add', [h, shortcut]), channels: outChannels };
}

/**
 * `QwenImageAttentionBlock`: single-head self-attention over H·W with a fused 1×1 `to_qkv`
 * (channels q, k, v in that order), scale 1/√C, 1×1 `proj`, residual. `fused` uses com.microsoft
 * MultiHeadAttention so EPs with a memory-efficient kernel never hold the (H·W)² scores
 * (16384² floats at 1024²).
 */
export function qwenAttentionBlock(ctx: GraphContext, x: string, prefix: string, channels: number, implementation: VaeAttention = 'standard'): string {
  const { builder } = ctx;
  const qkv = conv2d(ctx, channelL2Norm(ctx, x, `${prefix}.norm.gamma`, channels), `${prefix}.to_qkv`);
  const flat = builder.op('Reshape', [qkv, builder.constInt64([0, 3 * channels, -1])]);
  const tokens = builder.op('Transpose', [flat], { perm: [0, 2, 1] }); // [B, H·W, 3C]
  const [query, key, value] = builder.node('Split', [tokens, builder.constInt64([channels, channels, channels])], {
    outputCount: 3,
    attributes: { axis: 2 },
  });
  let attended: string;
  if (implementation === 'fused') {
    attended = builder.op('MultiHeadAttention', [query, key, value], { num_heads: 1 }, 'com.microsoft');
  } else {
    const scores = builder.op('MatMul', [query, builder.op('Transpose', [key], { perm: [0, 2, 1] })]);
    const weights = builder.op('Softmax', [builder.op('Mul', [scores, builder.constFloat([channels ** -0.5], [])])], { axis: -1 });
    attended = builder.op('MatMul', [weights, value]);
  }
  const restored = builder.op('Reshape', [builder.op('Transpose', [attended], { perm: [0, 2, 1] }), builder.op('Shape', [x])]);
  return builder.op('Add', [conv2d(ctx, restored, `${prefix}.proj`), x]);
}

/** `QwenImageMidBlock`: residual, attention, residual. */
export function qwenMidBlock(ctx: GraphContext, x: string, prefix: string, channels: number, attention: VaeAttention): string {
  let h = qwenResidualBlock(ctx, x, `${prefix}.resnets.0`, channels).output;
  h = qwenAttentionBlock(ctx, h, `${prefix}.attentions.0`, channels, attention);
  return qwenResidualBlock(ctx, h, `${prefix}.resnets.1`, channels).output;
}
