import type { ModelConfig } from '../manifest.js';
import type { UniPic1GraphRunner as Graphs } from '../call-context.js';
import { float32, takeFloat32 } from '../../../core/tensor.js';
import { encodePng, toBlob } from '../../../core/image/encode-png.js';
import { pixelsFromDecoder } from '../../../core/image/decoder-pixels.js';

/** A generated or edited image: RGBA pixels plus encoders. */
export interface GeneratedImage {
  readonly width: number;
  readonly height: number;
  /** RGBA, row-major, alpha 255. */
  readonly data: Uint8ClampedArray;
  /** PNG file bytes. */
  toPNG(): Uint8Array;
  /** A PNG Blob (browsers, and Node ≥ 18 which has Blob). */
  toBlob(): Blob;
}

export function makeImage(width: number, height: number, data: Uint8ClampedArray): GeneratedImage {
  return {
    width,
    height,
    data,
    toPNG: () => encodePng(data, width, height),
    toBlob: () => toBlob(data, width, height),
  };
}

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
