import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { GraphContext } from '../weights.js';

/**
 * GroupNorm of a strip with the whole image's statistics fed as graph inputs (`meanInput`,
 * `rstdInput`: `[groups]`, from the strip runtimes in src/core/vae/), then `<norm>.weight/bias`:
 * a strip's own statistics would differ from the image's, so ORT's GroupNormalization cannot be used.
 */
export function stripGroupNorm(ctx: GraphContext, x: string, norm: string, channels: number, groups: number, meanInput: string, rstdInput: string): string {
  const { builder, weights } = ctx;
  if (channels % groups !== 0) throw new InvalidModelError(`${norm}: ${channels} channels do not split into ${groups} groups`);
  const perGroup = (name: string) => builder.op('Reshape', [builder.input(name, 'float32', [groups]), builder.constInt64([1, groups, 1])]);
  const mean = perGroup(meanInput);
  const rstd = perGroup(rstdInput);
  const grouped = builder.op('Reshape', [x, builder.constInt64([0, groups, -1])]);
  const normalised = builder.op('Reshape', [builder.op('Mul', [builder.op('Sub', [grouped, mean]), rstd]), builder.op('Shape', [x])]);
  const read = (name: string) => {
    if (builder.hasInitializer(name)) return name;
    const data = weights.float32(name);
    if (data.length !== channels) throw new InvalidModelError(`${name} has ${data.length} values, expected ${channels}`);
    return builder.floatInitializer(name, [1, channels, 1, 1], data);
  };
  return builder.op('Add', [builder.op('Mul', [normalised, read(`${norm}.weight`)]), read(`${norm}.bias`)]);
}
