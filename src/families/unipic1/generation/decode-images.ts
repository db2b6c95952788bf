import type { ModelConfig } from '../manifest.js';
import type { Graphs } from '../../../core/model/graphs.js';
import { float32, takeFloat32 } from '../../../core/tensor.js';
import { makeImage } from '../../../core/image/generated-image.js';
import { pixelsFromDecoder } from '../../../core/image/decoder-pixels.js';

// Family-neutral since the Kontext family uses it too; re-exported for the existing imports.
export { makeImage, type GeneratedImage } from '../../../core/image/generated-image.js';
import type { GeneratedImage } from '../../../core/image/generated-image.js';

/** VAE-decode `images` latent grids (`[G, grid², 16]`, scaled tokens) to RGBA images (spec §5.8). */
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
