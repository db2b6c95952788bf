import { InvalidInputError } from '../../../errors/invalid-input-error.js';

/**
 * Qwen-Image latent packing (`_pack_latents` of the Qwen-Image pipelines): `[C, h, w]` (one frame) → `[h/2 · w/2, 4C]`, token
 * row-major over the 2×2 cells, feature `c·4 + dy·2 + dx`.
 */
export function packLatents(latents: Float32Array, channels: number, height: number, width: number): Float32Array {
  if (height % 2 !== 0 || width % 2 !== 0) throw new InvalidInputError(`latent grid ${height}×${width} must be even to pack 2×2`);
  if (latents.length !== channels * height * width) throw new InvalidInputError(`expected ${channels}×${height}×${width} latents, got ${latents.length}`);
  const columns = width / 2;
  const features = channels * 4;
  const packed = new Float32Array(latents.length);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const token = (y >> 1) * columns + (x >> 1);
        packed[token * features + c * 4 + (y & 1) * 2 + (x & 1)] = latents[(c * height + y) * width + x];
      }
    }
  }
  return packed;
}

/** Inverse of packLatents: `[h/2 · w/2, 4C]` → `[C, h, w]`. */
export function unpackLatents(packed: Float32Array, channels: number, height: number, width: number): Float32Array {
  if (height % 2 !== 0 || width % 2 !== 0) throw new InvalidInputError(`latent grid ${height}×${width} must be even to unpack 2×2`);
  if (packed.length !== channels * height * width) throw new InvalidInputError(`expected ${channels * height * width} packed values, got ${packed.length}`);
  const columns = width / 2;
  const features = channels * 4;
  const latents = new Float32Array(packed.length);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        latents[(c * height + y) * width + x] = packed[((y >> 1) * columns + (x >> 1)) * features + c * 4 + (y & 1) * 2 + (x & 1)];
      }
    }
  }
  return latents;
}
