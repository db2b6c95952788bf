import type { ModelConfig } from '../manifest.js';
import type { UniPic1GraphRunner as Graphs } from '../call-context.js';
import { float32, takeFloat32 } from '../../../core/tensor.js';
import { makeImage, type GeneratedImage } from '../../../core/image/generated-image.js';
import { pixelsFromDecoder } from '../../../core/image/decoder-pixels.js';

export type { GeneratedImage } from '../../../core/image/generated-image.js';
export { makeImage };

/** VAE-decode `images` latent grids (`[G, grid², 16]`, scaled tokens) to RGBA images. */
export async function decodeLatents(
  graphs: Graphs,
  config: ModelConfig,
  tokens: Float32Array,
  images: number,
  grid: number,
  signal?: AbortSignal,
): Promise<GeneratedImage[]> {
  const channels = config.mar.tokenDim;
  const out = await graphs.run('vae_decoder', { latents: float32([images, grid, grid, channels], tokens) }, { signal });
  const pixels = await takeFloat32(out.pixels);
  return pixelsFromDecoder(pixels.data, pixels.dims).map((image) => makeImage(image.width, image.height, image.data));
}
