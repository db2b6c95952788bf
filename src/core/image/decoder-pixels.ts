import type { RgbaImage } from './rgb-image.js';

/**
 * The VAE decoder's output [B, 3, H, W] (values about −1..1) → one RGBA image per batch row:
 * trunc(clamp(127.5·x + 128, 0, 255)), the multiply and the add each rounded to float32 as torch
 * does. +128 rather than +127.5 makes the truncation round half up. NaN becomes 0.
 */
export function pixelsFromDecoder(output: Float32Array, dims: readonly number[]): RgbaImage[] {
  if (dims.length !== 4 || dims[1] !== 3) throw new RangeError(`decoder output must be [B, 3, H, W], got [${dims.join(', ')}]`);
  const [batch, , height, width] = dims;
  const plane = height * width;
  if (output.length !== batch * 3 * plane) {
    throw new RangeError(`decoder output has ${output.length} values, [${dims.join(', ')}] needs ${batch * 3 * plane}`);
  }
  const images: RgbaImage[] = [];
  for (let b = 0; b < batch; b++) {
    const data = new Uint8ClampedArray(plane * 4);
    const base = b * 3 * plane;
    for (let c = 0; c < 3; c++) {
      const channel = base + c * plane;
      for (let i = 0; i < plane; i++) {
        const value = Math.fround(Math.fround(127.5 * output[channel + i]) + 128);
        // The comparisons send NaN to 0 (a clamp then a uint8 cast is undefined for NaN in torch).
        data[i * 4 + c] = value >= 255 ? 255 : value > 0 ? Math.trunc(value) : 0;
      }
    }
    for (let i = 0; i < plane; i++) data[i * 4 + 3] = 255;
    images.push({ width, height, data });
  }
  return images;
}
