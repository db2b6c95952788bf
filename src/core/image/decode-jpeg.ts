import jpeg from 'jpeg-js';
import type { DecodedPixels } from './rgb-image.js';

/**
 * JPEG → RGB with jpeg-js (pure JS). It is not libjpeg-turbo: its IDCT, YCbCr conversion and
 * chroma upsampling (nearest, where libjpeg-turbo interpolates) differ, so pixels differ from
 * Pillow's by a few levels; test/core/image/decode-parity.test.ts states the measured bounds.
 */
export function decodeJpeg(bytes: Uint8Array, maxPixels: number): DecodedPixels {
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    // A truncated file must fail, not come back grey-filled.
    tolerantDecoding: false,
    maxResolutionInMP: maxPixels / 1e6,
    // Output (3 B/px), component planes (up to 4 B/px) and coefficient blocks (2 B per sample,
    // kept whole for progressive files): about 16 B/px at worst, with a floor for tiny limits.
    maxMemoryUsageInMB: Math.max(64, Math.ceil((maxPixels * 16) / 2 ** 20)),
  });
  return { width: decoded.width, height: decoded.height, rgb: decoded.data };
}
