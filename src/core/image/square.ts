import type { RgbColor } from './apply-alpha.js';
import type { RgbImage } from './rgb-image.js';

/** The understanding preprocessing's padding colour (official `expand2square`). */
export const EXPAND_FILL: RgbColor = [127, 127, 127];

/** Copies a `width`×`height` block from `source` at (left, top) into `target` at (x, y). */
function copyBlock(source: RgbImage, left: number, top: number, width: number, height: number, target: Uint8Array, targetWidth: number, x: number, y: number): void {
  for (let row = 0; row < height; row++) {
    const from = ((top + row) * source.width + left) * 3;
    target.set(source.data.subarray(from, from + width * 3), ((y + row) * targetWidth + x) * 3);
  }
}

/**
 * The edit preprocessing (official `crop2square`): the centred square of the short side, with
 * left = (w − s) // 2 and top = (h − s) // 2, so odd leftovers drop one more column/row on the right/bottom.
 */
export function crop2square(image: RgbImage): RgbImage {
  const side = Math.min(image.width, image.height);
  if (image.width === image.height) return image;
  const left = Math.floor((image.width - side) / 2);
  const top = Math.floor((image.height - side) / 2);
  const data = new Uint8Array(side * side * 3);
  copyBlock(image, left, top, side, side, data, side, 0, 0);
  return { width: side, height: side, data };
}

/**
 * The understanding preprocessing (official `expand2square`): pad the short side with grey
 * (127,127,127), the image at offset (W − H) // 2 (or (H − W) // 2) along the padded axis.
 */
export function expand2square(image: RgbImage, fill: RgbColor = EXPAND_FILL): RgbImage {
  if (image.width === image.height) return image;
  const side = Math.max(image.width, image.height);
  const data = new Uint8Array(side * side * 3);
  for (let i = 0; i < side * side; i++) {
    data[i * 3] = fill[0];
    data[i * 3 + 1] = fill[1];
    data[i * 3 + 2] = fill[2];
  }
  const x = Math.floor((side - image.width) / 2);
  const y = Math.floor((side - image.height) / 2);
  copyBlock(image, 0, 0, image.width, image.height, data, side, x, y);
  return { width: side, height: side, data };
}
