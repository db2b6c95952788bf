import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { GraphContext } from '../weights.js';

/** LDM's (and diffusers') VAE GroupNorm epsilon. */
export const VAE_GROUP_NORM_EPSILON = 1e-6;

/**
 * torch `GroupNorm(groups, channels, eps=1e-6, affine=True)` on `[B, C, H, W]` float32, as the
 * opset-21 `GroupNormalization` with per-channel scale and bias (statistics in float32 for every
 * graph dtype: `stash_type` 1).
 */
export function groupNorm(ctx: GraphContext, x: string, prefix: string, channels: number, groups: number): string {
  const { builder, weights } = ctx;
  if (channels % groups !== 0) throw new InvalidModelError(`${prefix}: ${channels} channels do not split into ${groups} groups`);
  const read = (name: string): Float32Array => {
    const data = weights.float32(name);
    if (data.length !== channels) throw new InvalidModelError(`${name} has ${data.length} values, expected ${channels}`);
    return data;
  };
  const scale = builder.floatInitializer(`${prefix}.weight`, [channels], read(`${prefix}.weight`));
  const bias = builder.floatInitializer(`${prefix}.bias`, [channels], read(`${prefix}.bias`));
  return builder.op('GroupNormalization', [x, scale, bias], {
    num_groups: groups,
    epsilon: { float: VAE_GROUP_NORM_EPSILON },
    stash_type: 1,
  });
}
