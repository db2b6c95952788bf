import type { ModelConfig } from '../manifest.js';
import type { UniPic1GraphRunner as Graphs } from '../call-context.js';
import { float32, takeFloat32 } from '../../../core/tensor.js';
import { makeImage, type GeneratedImage } from '../../../core/image/generated-image.js';
import { pixelsFromDecoder } from '../../../core/image/decoder-pixels.js';
import type { Graphs as AnyGraphs } from '../../../core/model/graphs.js';
import { decodeInStrips } from '../../../core/vae/strip-decode.js';
import { STRIP_DECODER_GRAPH, type StripDecoderPlan } from '../../../spec/strip-decoder.js';

export type { GeneratedImage } from '../../../core/image/generated-image.js';
export { makeImage };

/**
 * Output side from which the strip decoder is used: at 512 px the one-shot decoder's activations
 * already take ~0.9 GB, at 1024 px ~3.3 GB (docs/performance.md, "Strip VAE decode"); below, the
 * one-shot run is small and one run is simpler to trace.
 */
export const STRIP_DECODE_FROM_SIDE = 512;

/**
 * VAE-decode `images` latent grids (`[G, grid², 16]`, scaled tokens) to RGBA images: image by
 * image through the strip decoder when the model has one (`strips`, the manifest's plan) and the
 * output is at least `stripFromSide` pixels wide, else in one `vae_decoder` run.
 */
export async function decodeLatents(
  graphs: Graphs,
  config: ModelConfig,
  tokens: Float32Array,
  images: number,
  grid: number,
  signal?: AbortSignal,
  strips?: StripDecoderPlan,
  stripFromSide = STRIP_DECODE_FROM_SIDE,
): Promise<GeneratedImage[]> {
  const channels = config.mar.tokenDim;
  if (strips && grid * config.mar.vaeStride >= stripFromSide && (graphs as unknown as AnyGraphs).has(STRIP_DECODER_GRAPH)) {
    const out: GeneratedImage[] = [];
    const size = grid * grid * channels;
    for (let g = 0; g < images; g++) {
      const latent = float32([1, grid, grid, channels], tokens.subarray(g * size, (g + 1) * size));
      const pixels = await decodeInStrips(graphs as unknown as AnyGraphs, strips, latent, { signal });
      out.push(...pixelsFromDecoder(pixels.data, pixels.dims).map((image) => makeImage(image.width, image.height, image.data)));
    }
    return out;
  }
  const out = await graphs.run('vae_decoder', { latents: float32([images, grid, grid, channels], tokens) }, { signal });
  const pixels = await takeFloat32(out.pixels);
  return pixelsFromDecoder(pixels.data, pixels.dims).map((image) => makeImage(image.width, image.height, image.data));
}
