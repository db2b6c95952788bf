import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { silu } from '../layers/activations.js';
import type { GraphContext } from '../weights.js';
import { conv2d, convOutputChannels } from './conv.js';
import { groupNorm } from './group-norm.js';

/**
 * LDM `ResnetBlock` without time embedding: GN, swish, conv3×3, GN, swish, conv3×3 (dropout is
 * inactive), plus the input — through the 1×1 `nin_shortcut` when the channel count changes.
 * Returns the output and its channel count. `shortcutName` is the 1×1 shortcut's module name:
 * `nin_shortcut` in LDM checkpoints, `conv_shortcut` in diffusers' `ResnetBlock2D`.
 */
export function resnetBlock(
  ctx: GraphContext,
  x: string,
  prefix: string,
  inChannels: number,
  groups: number,
  shortcutName = 'nin_shortcut',
): { output: string; channels: number } {
  const { builder, weights } = ctx;
  const outChannels = convOutputChannels(ctx, `${prefix}.conv1`);
  let h = silu(builder, groupNorm(ctx, x, `${prefix}.norm1`, inChannels, groups));
  h = conv2d(ctx, h, `${prefix}.conv1`);
  h = silu(builder, groupNorm(ctx, h, `${prefix}.norm2`, outChannels, groups));
  h = conv2d(ctx, h, `${prefix}.conv2`);
  let shortcut = x;
  if (inChannels !== outChannels) {
    if (!weights.has(`${prefix}.${shortcutName}.weight`)) {
      throw new InvalidModelError(`${prefix} changes ${inChannels} → ${outChannels} channels but has no ${shortcutName}`);
    }
    shortcut = conv2d(ctx, x, `${prefix}.${shortcutName}`);
  }
  return { output: builder.op('Add', [shortcut, h]), channels: outChannels };
}
