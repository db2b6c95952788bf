import { throwIfAborted } from '../../../errors/abort-error.js';
import type { NoisePurpose } from '../../../core/random/random-source.js';
import type { DiffusionTables } from './schedule.js';

const f = Math.fround;

/** One call of the diffusion network: x `[rows, C]`, the original timestep → `[rows, 2C]`. */
export type DiffusionNet = (x: Float32Array, rows: number, timestep: number) => Promise<Float32Array>;

export interface SampleTokensOptions {
  readonly tables: DiffusionTables;
  readonly net: DiffusionNet;
  /** Tokens to sample (the conditional rows). */
  readonly tokens: number;
  readonly channels: number;
  /** Whether the conditions hold [cond; uncond] rows (the net then sees the cond x twice). */
  readonly unconditional: boolean;
  /** Guidance scale applied to ε when `unconditional` is set. */
  readonly guidance: number;
  readonly temperature: number;
  readonly noise: (count: number, purpose: NoisePurpose) => Float32Array;
  readonly iteration: number;
  readonly signal?: AbortSignal;
  /** Called after each network call (progress, abort). */
  readonly onStep?: (step: number) => void;
}

/**
 * The per-token ancestral DDPM sampler of the diffusion head, in float32 arithmetic
 * mirroring torch's op by op: ε-prediction, learned-range variance, guidance on the ε channels only
 * with the conditional half fed to both halves, temperature on the per-step noise only.
 */
export async function sampleTokens(options: SampleTokensOptions): Promise<Float32Array> {
  const { tables, tokens: m, channels: c, guidance, temperature } = options;
  const withGuidance = options.unconditional;
  const rows = withGuidance ? 2 * m : m;
  const size = m * c;
  const x = Float32Array.from(options.noise(size, { kind: 'diffusion-start', iteration: options.iteration }));
  const input = new Float32Array(rows * c);
  const eps = new Float32Array(size);
  const scale = f(guidance);
  const temp = f(temperature);
  const steps = tables.timesteps.length;

  for (let k = steps - 1; k >= 0; k--) {
    throwIfAborted(options.signal);
    input.set(x, 0);
    if (withGuidance) input.set(x, size);
    const out = await options.net(input, rows, tables.timesteps[k]);
    const width = 2 * c;
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < c; j++) {
        const cond = out[r * width + j];
        eps[r * c + j] = withGuidance ? f(out[(m + r) * width + j] + f(scale * f(cond - out[(m + r) * width + j]))) : cond;
      }
    }
    const minLog = f(tables.posteriorLogVarianceClipped[k]);
    const maxLog = f(tables.logBetas[k]);
    const recip = f(tables.sqrtRecipAlphasCumprod[k]);
    const recipm1 = f(tables.sqrtRecipm1AlphasCumprod[k]);
    const coef1 = f(tables.posteriorMeanCoef1[k]);
    const coef2 = f(tables.posteriorMeanCoef2[k]);
    const noise = k > 0 ? options.noise(size, { kind: 'diffusion-step', iteration: options.iteration, step: k }) : undefined;
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < c; j++) {
        const i = r * c + j;
        const frac = f(f(out[r * width + c + j] + 1) / 2);
        const logVariance = f(f(frac * maxLog) + f(f(1 - frac) * minLog));
        const x0 = f(f(recip * x[i]) - f(recipm1 * eps[i]));
        const mean = f(f(coef1 * x0) + f(coef2 * x[i]));
        x[i] = noise ? f(mean + f(f(f(Math.exp(f(0.5 * logVariance))) * noise[i]) * temp)) : mean;
      }
    }
    options.onStep?.(k);
  }
  return x;
}
