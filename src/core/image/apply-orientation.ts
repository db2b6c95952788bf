import type { DecodedPixels } from './rgb-image.js';

/**
 * Turns stored pixels upright for an EXIF orientation, as PIL.ImageOps.exif_transpose does:
 * 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse,
 * 8 rotate 90 counter-clockwise. Orientation 1 or unknown returns the input unchanged.
 */
export function applyOrientation(pixels: DecodedPixels, orientation: number | undefined): DecodedPixels {
  if (orientation === undefined || orientation < 2 || orientation > 8) return pixels;
  const { width, height } = pixels;
  const last = height - 1;
  // The source pixel index is linear in the output (x, y): start + x * stepX + y * stepY.
  const [start, stepX, stepY] = {
    2: [width - 1, -1, width],
    3: [last * width + width - 1, -1, -width],
    4: [last * width, 1, -width],
    5: [0, width, 1],
    6: [last * width, -width, 1],
    7: [last * width + width - 1, -width, -1],
    8: [width - 1, width, -1],
  }[orientation]!;
  const outWidth = orientation >= 5 ? height : width;
  const outHeight = orientation >= 5 ? width : height;

  const rgb = new Uint8Array(outWidth * outHeight * 3);
  const alpha = pixels.alpha ? new Uint8Array(outWidth * outHeight) : undefined;
  let target = 0;
  for (let y = 0; y < outHeight; y++) {
    let source = start + y * stepY;
    for (let x = 0; x < outWidth; x++, target++, source += stepX) {
      rgb[target * 3] = pixels.rgb[source * 3];
      rgb[target * 3 + 1] = pixels.rgb[source * 3 + 1];
      rgb[target * 3 + 2] = pixels.rgb[source * 3 + 2];
      if (alpha) alpha[target] = pixels.alpha![source];
    }
  }
  return { width: outWidth, height: outHeight, rgb, ...(alpha ? { alpha } : {}) };
}
