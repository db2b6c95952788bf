import type { DecodedPixels } from './rgb-image.js';

/** RGBA bytes → RGB plus an alpha plane, the plane left out when every pixel is opaque. */
export function rgbaToPixels(width: number, height: number, rgba: ArrayLike<number>): DecodedPixels {
  const count = width * height;
  const rgb = new Uint8Array(count * 3);
  const alpha = new Uint8Array(count);
  let opaque = true;
  for (let i = 0; i < count; i++) {
    rgb[i * 3] = rgba[i * 4];
    rgb[i * 3 + 1] = rgba[i * 4 + 1];
    rgb[i * 3 + 2] = rgba[i * 4 + 2];
    alpha[i] = rgba[i * 4 + 3];
    if (alpha[i] !== 255) opaque = false;
  }
  return opaque ? { width, height, rgb } : { width, height, rgb, alpha };
}
