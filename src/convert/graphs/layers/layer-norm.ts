import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { GraphContext } from '../weights.js';

/**
 * LayerNormalization over the last axis (opset 17+), float32 in and out. With `weightName`
 * (and optionally `biasName`) it is affine as torch `nn.LayerNorm`; without, it is the
 * `elementwise_affine=False` form (unit scale, zero bias). Statistics stay in float32 for every
 * graph dtype: the norms are cheap and half precision would cost parity.
 */
export function layerNorm(ctx: GraphContext, x: string, width: number, epsilon: number, weightName?: string, biasName?: string): string {
  const named = weightName ?? biasName;
  if (!named) return scopedLayerNorm(ctx, x, width, epsilon);
  return ctx.builder.scopedByWeight(named, () => scopedLayerNorm(ctx, x, width, epsilon, weightName, biasName));
}

function scopedLayerNorm(ctx: GraphContext, x: string, width: number, epsilon: number, weightName?: string, biasName?: string): string {
  const { builder, weights } = ctx;
  const scale = weightName
    ? builder.floatInitializer(weightName, [width], checked(weights.float32(weightName), width, weightName))
    : builder.constFloat(new Array<number>(width).fill(1), [width]);
  const inputs = [x, scale];
  if (biasName) inputs.push(builder.floatInitializer(biasName, [width], checked(weights.float32(biasName), width, biasName)));
  else if (!weightName) inputs.push(builder.constFloat(new Array<number>(width).fill(0), [width]));
  return builder.op('LayerNormalization', inputs, { axis: -1, epsilon: { float: epsilon } });
}

function checked(data: Float32Array, width: number, name: string): Float32Array {
  if (data.length !== width) throw new InvalidModelError(`norm weight ${name} has ${data.length} values, expected ${width}`);
  return data;
}
