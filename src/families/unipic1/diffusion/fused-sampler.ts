import { throwIfAborted } from '../../../errors/abort-error.js';
import type { UniPic1GraphRunner as Graphs } from '../call-context.js';
import type { NoisePurpose } from '../../../core/random/random-source.js';
import { float32, int64, takeFloat32 } from '../../../core/tensor.js';

/** Steps per run of the fused sampler: abort and the event loop are checked between blocks. */
export const FUSED_BLOCK_STEPS = 25;

export interface FusedSampleOptions {
  readonly graphs: Graphs;
  /** `diffusion_sampler` (guided: `conditions` holds cond then uncond rows) or `diffusion_sampler_plain`. */
  readonly graph: 'diffusion_sampler' | 'diffusion_sampler_plain';
  readonly tokens: number;
  readonly channels: number;
  /** `[rows, W]`. */
  readonly conditions: Float32Array;
  readonly conditionRows: number;
  readonly width: number;
  readonly steps: number;
  readonly guidance: number;
  readonly temperature: number;
  readonly iteration: number;
  readonly noise: (count: number, purpose: NoisePurpose) => Float32Array;
  readonly signal?: AbortSignal;
}

/**
 * The same sampler as `sampleTokens`, run by the `diffusion_sampler` graph (the head inside an
 * ONNX Loop, docs/model-format.md) a block of steps per run. The noise is drawn up front in the
 * per-step sampler's order — the start noise, then steps k = S−1 … 1 — so an injected or seeded
 * source gives the same tokens either way.
 */
export async function sampleTokensFused(options: FusedSampleOptions): Promise<Float32Array> {
  const { graphs, tokens: m, channels: c, steps, iteration, signal } = options;
  const size = m * c;
  let x: Float32Array = Float32Array.from(options.noise(size, { kind: 'diffusion-start', iteration }));
  // Row j holds the noise of respaced step k = steps − 1 − j; the k = 0 row stays zero (unused).
  const noise = new Float32Array(steps * size);
  for (let j = 0; j < steps - 1; j++) noise.set(options.noise(size, { kind: 'diffusion-step', iteration, step: steps - 1 - j }), j * size);
  const conditions = float32([options.conditionRows, options.width], options.conditions);
  for (let start = 0; start < steps; start += FUSED_BLOCK_STEPS) {
    throwIfAborted(signal);
    const count = Math.min(FUSED_BLOCK_STEPS, steps - start);
    const out = await graphs.run(
      options.graph,
      {
        x: float32([m, c], x),
        c: conditions,
        noise: float32([count, m, c], noise.slice(start * size, (start + count) * size)),
        first_step: int64([], [steps - 1 - start]),
        guidance: float32([], new Float32Array([options.guidance])),
        temperature: float32([], new Float32Array([options.temperature])),
      },
      { signal },
    );
    x = (await takeFloat32(out.x_out)).data;
  }
  return x;
}
