import { InvalidModelError } from '../../../../errors/invalid-model-error.js';
import type { GraphContext } from '../../../../convert/graphs/weights.js';

/**
 * `QwenImageRMS_norm` on `[B, C, H, W]`: `F.normalize` over channels, i.e.
 * `x / max(‖x‖₂, 1e-12) · √C · γ` — an L2 norm, not a mean square, so it is spelled with
 * ReduceL2 rather than SimplifiedLayerNormalization (whose ε would sit inside the root).
 */
export function channelL2Norm(ctx: GraphContext, x: string, gammaName: string, channels: number): string {
  const { builder, weights } = ctx;
  const gamma = weights.float32(gammaName);
  if (gamma.length !== channels) throw new InvalidModelError(`${gammaName} has ${gamma.length} values, expected ${channels}`);
  const norm = builder.op('ReduceL2', [x, builder.constInt64([1])], { keepdims: 1 });
  const normalized = builder.op('Div', [x, builder.op('Max', [norm, builder.constFloat([1e-12], [])])]);
  // torch multiplies by the Python float √C first, then by γ: keep that order.
  const scaled = builder.op('Mul', [normalized, builder.constFloat([Math.sqrt(channels)], [])]);
  return builder.op('Mul', [scaled, builder.floatInitializer(gammaName, [1, channels, 1, 1], gamma)]);
}
