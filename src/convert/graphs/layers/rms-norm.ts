import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { GraphContext } from '../weights.js';

/**
 * RMSNorm over the last axis, x / √(mean(x²) + ε) · weight, float32 in and out (HF Qwen2RMSNorm
 * normalises in float32 too). `SimplifiedLayerNormalization` is ORT's op for it, registered in the
 * default domain; `decomposed` spells it with standard ops for runtimes that lack it.
 */
export function rmsNorm(ctx: GraphContext, x: string, weightName: string, epsilon: number, options: { decomposed?: boolean } = {}): string {
  return ctx.builder.scopedByWeight(weightName, () => scopedRmsNorm(ctx, x, weightName, epsilon, options));
}

function scopedRmsNorm(ctx: GraphContext, x: string, weightName: string, epsilon: number, options: { decomposed?: boolean }): string {
  const { builder, weights } = ctx;
  const shape = weights.shape(weightName);
  if (shape.length !== 1) throw new InvalidModelError(`rms norm weight ${weightName} must be 1-D, got [${shape.join(', ')}]`);
  const scale = builder.floatInitializer(weightName, [shape[0]], weights.float32(weightName));
  if (!options.decomposed) {
    return builder.op('SimplifiedLayerNormalization', [x, scale], { axis: -1, epsilon: { float: epsilon } });
  }
  const meanSquare = builder.op('ReduceMean', [builder.op('Mul', [x, x]), builder.constInt64([-1])], { keepdims: 1 });
  const inverseRoot = builder.op('Reciprocal', [builder.op('Sqrt', [builder.op('Add', [meanSquare, builder.constFloat([epsilon], [])])])]);
  return builder.op('Mul', [builder.op('Mul', [x, inverseRoot]), scale]);
}
