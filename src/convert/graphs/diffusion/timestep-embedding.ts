import type { GraphContext } from '../weights.js';

/** Width of the sinusoidal timestep features fed to `time_embed.mlp.0`. */
export const TIMESTEP_FEATURES = 256;
const MAX_PERIOD = 10000;

/**
 * Frequencies exp(−ln(10000)·i/128), i = 0..127, rounded step by step as torch computes them in
 * float32 (product, quotient, exp), so that t·f below sees the same float32 operands.
 */
export function timestepFrequencies(): Float32Array {
  const half = TIMESTEP_FEATURES / 2;
  const out = new Float32Array(half);
  const negativeLogPeriod = Math.fround(-Math.log(MAX_PERIOD));
  for (let i = 0; i < half; i++) out[i] = Math.fround(Math.exp(Math.fround(Math.fround(negativeLogPeriod * i) / half)));
  return out;
}

/**
 * `[M]` float timesteps (the original 0..999 index) → `[M, 256]` = [cos(t·f), sin(t·f)], cosine
 * first as in MAR's TimestepEmbedder.
 */
export function timestepEmbedding(ctx: GraphContext, timesteps: string): string {
  const { builder } = ctx;
  const frequencies = builder.constFloat(Array.from(timestepFrequencies()), [TIMESTEP_FEATURES / 2]);
  const angles = builder.op('Mul', [builder.op('Unsqueeze', [timesteps, builder.constInt64([1])]), frequencies]);
  return builder.op('Concat', [builder.op('Cos', [angles]), builder.op('Sin', [angles])], { axis: -1 });
}
