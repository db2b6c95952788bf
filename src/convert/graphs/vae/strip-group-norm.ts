import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { GraphContext } from '../weights.js';
import { VAE_GROUP_NORM_EPSILON } from './group-norm.js';

/**
 * GroupNorm of a strip with the whole image's statistics fed as graph inputs (`meanInput`,
 * `rstdInput`: `[groups]`, from the strip runtimes in src/core/vae/), then `<norm>.weight/bias`:
 * a strip's own statistics would differ from the image's, so ORT's GroupNormalization cannot be
 * used. Given the statistics it is a per-channel affine map, run as one BatchNormalization (one
 * pass over the strip instead of five elementwise ops; docs/performance.md, "Strip VAE decode").
 */
export function stripGroupNorm(ctx: GraphContext, x: string, norm: string, channels: number, groups: number, meanInput: string, rstdInput: string): string {
  const { builder, weights } = ctx;
  if (channels % groups !== 0) throw new InvalidModelError(`${norm}: ${channels} channels do not split into ${groups} groups`);
  const perChannel = (value: string) =>
    builder.op('Reshape', [
      builder.op('Expand', [builder.op('Reshape', [value, builder.constInt64([groups, 1])]), builder.constInt64([groups, channels / groups])]),
      builder.constInt64([channels]),
    ]);
  const rstd = builder.input(rstdInput, 'float32', [groups]);
  // BatchNormalization takes the variance: 1/rstd² − ε, to which it adds ε back (exact up to rounding).
  const epsilon = builder.constFloat([VAE_GROUP_NORM_EPSILON], []);
  const variance = builder.op('Sub', [builder.op('Reciprocal', [builder.op('Mul', [rstd, rstd])]), epsilon]);
  const read = (name: string) => {
    if (builder.hasInitializer(name)) return name;
    const data = weights.float32(name);
    if (data.length !== channels) throw new InvalidModelError(`${name} has ${data.length} values, expected ${channels}`);
    return builder.floatInitializer(name, [channels], data);
  };
  return builder.op(
    'BatchNormalization',
    [x, read(`${norm}.weight`), read(`${norm}.bias`), perChannel(builder.input(meanInput, 'float32', [groups])), perChannel(variance)],
    { epsilon: { float: VAE_GROUP_NORM_EPSILON } },
  );
}
