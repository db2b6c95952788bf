import { makeImage, type GeneratedImage } from '../image/generated-image.js';
import { float32, takeFloat32 } from '../tensor.js';
import type { Sd3DiffusionConfig } from './sd3-diffusion-config.js';
import type { DiffusionGraphRunner } from './diffusion-graph-runner.js';
import type { Graphs } from '../model/graphs.js';
import { decodeInStrips } from '../vae/strip-decode.js';
import type { StripDecoderPlan } from '../../spec/strip-decoder.js';
import { encodeInStrips } from '../vae/strip-encode.js';
import type { StripEncoderPlan } from '../../spec/strip-encoder.js';

const f = Math.fround;

/** numpy's `round` (half to even) of a non-negative float. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * diffusers' `VaeImageProcessor.postprocess` to uint8: `round(clamp(x/2 + 0.5, 0, 1)·255)` in
 * float32 with round-half-even (numpy), for a `[B, 3, H, W]` decoder output → RGBA images.
 */
export function postprocess(decoded: Float32Array, dims: readonly number[]): GeneratedImage[] {
  const [batch, , height, width] = dims;
  const plane = height * width;
  const images: GeneratedImage[] = [];
  for (let b = 0; b < batch; b++) {
    const data = new Uint8ClampedArray(plane * 4);
    for (let c = 0; c < 3; c++) {
      const base = (b * 3 + c) * plane;
      for (let i = 0; i < plane; i++) {
        let v = f(f(decoded[base + i] / 2) + 0.5);
        v = v > 1 ? 1 : v >= 0 ? v : 0;
        data[i * 4 + c] = roundHalfEven(f(v * 255));
      }
    }
    for (let i = 0; i < plane; i++) data[i * 4 + 3] = 255;
    images.push(makeImage(width, height, data));
  }
  return images;
}

/** Output side from which the strip decoder is used (as for UniPic-1: docs/performance.md, "Strip VAE decode"). */
export const STRIP_DECODE_FROM_SIDE = 512;

/**
 * Scaled latent `[1, C, h, w]` → `z/scale + shift` → `vae_decoder` → images (the Kontext pipeline's latent scaling); through
 * the strip decoder (`strips`) when the model has one and the image is `stripFromSide` px or more.
 */
export async function decodeLatent(
  graphs: DiffusionGraphRunner,
  config: Sd3DiffusionConfig,
  latent: Float32Array,
  dims: readonly number[],
  signal?: AbortSignal,
  strips?: StripDecoderPlan,
  stripFromSide = STRIP_DECODE_FROM_SIDE,
): Promise<{ images: GeneratedImage[]; decoded: Float32Array }> {
  const scale = f(config.vae.scalingFactor);
  const shift = f(config.vae.shiftFactor);
  const input = Float32Array.from(latent, (z) => f(f(z / scale) + shift));
  const side = Math.max(dims[2], dims[3]) * config.vae.stride;
  const out =
    strips && dims[0] === 1 && side >= stripFromSide
      ? await decodeInStrips(graphs as unknown as Graphs, strips, float32(dims, input), { signal })
      : await takeFloat32((await graphs.run('vae_decoder', { latents: float32(dims, input) }, { signal })).pixels);
  return { images: postprocess(out.data, out.dims), decoded: out.data };
}

/**
 * `vae_encoder` of pixels in [−1, 1] → the scaled reference latent `(z − shift)·scale`, where `z` is
 * the posterior mean, or `mean + exp(logvar/2)·eps` (logvar clamped to [−30, 20]) when `eps` is given;
 * through the strip encoder (`strips`) when the model has one and the image is `stripFromSide` px or more.
 */
export async function encodeReference(
  graphs: DiffusionGraphRunner,
  config: Sd3DiffusionConfig,
  pixels: Float32Array,
  dims: readonly number[],
  eps: ((count: number) => Float32Array) | undefined,
  signal?: AbortSignal,
  strips?: StripEncoderPlan,
  stripFromSide = STRIP_DECODE_FROM_SIDE,
): Promise<{ latent: Float32Array; dims: readonly number[] }> {
  const input = float32(dims, pixels);
  const out =
    strips && dims[0] === 1 && Math.max(dims[2], dims[3]) >= stripFromSide
      ? await encodeInStrips(graphs as unknown as Graphs, strips, input, { signal })
      : await graphs.run('vae_encoder', { pixels: input }, { signal });
  const mean = await takeFloat32(out.mean);
  const logvar = await takeFloat32(out.logvar);
  let z = mean.data;
  if (eps) {
    const noise = eps(z.length);
    z = Float32Array.from(z, (m, i) => {
      const lv = Math.min(20, Math.max(-30, logvar.data[i]));
      const std = f(Math.exp(f(0.5 * lv)));
      return f(m + f(std * noise[i]));
    });
  }
  const scale = f(config.vae.scalingFactor);
  const shift = f(config.vae.shiftFactor);
  return { latent: Float32Array.from(z, (v) => f(f(v - shift) * scale)), dims: mean.dims };
}
