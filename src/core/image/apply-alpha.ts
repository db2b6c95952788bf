import type { DecodedPixels, RgbImage } from './rgb-image.js';

export type RgbColor = readonly [number, number, number];

/**
 * The alpha rule. Without a background the alpha channel is dropped and the stored colour kept,
 * exactly what Pillow's `convert('RGB')` in the official scripts does (transparent areas show
 * whatever colour the encoder left there, often black). With a background each pixel is
 * composited over it: round((colour·a + background·(255 − a)) / 255).
 */
export function applyAlpha(pixels: DecodedPixels, background?: RgbColor): RgbImage {
  const { width, height, rgb, alpha } = pixels;
  if (!alpha || !background) return { width, height, data: rgb };
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < alpha.length; i++) {
    const a = alpha[i];
    for (let c = 0; c < 3; c++) {
      out[i * 3 + c] = Math.round((rgb[i * 3 + c] * a + background[c] * (255 - a)) / 255);
    }
  }
  return { width, height, data: out };
}
