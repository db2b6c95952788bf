import jpeg from 'jpeg-js';
import type { DecodedPixels } from './rgb-image.js';
import { rgbaToPixels } from './rgba-to-pixels.js';
import { wasmCodec } from './wasm-codec.js';

/**
 * jpeg-js (pure JS): used for CMYK files, which the wasm decoder refuses, and when the wasm
 * cannot be loaded. Its IDCT, colour conversion and nearest-neighbour chroma upsampling differ
 * from libjpeg-turbo's, so subsampled colour drifts from Pillow's (see docs/images.md).
 */
function decodeWithJpegJs(bytes: Uint8Array, maxPixels: number): DecodedPixels {
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    // A truncated file must fail, not come back grey-filled.
    tolerantDecoding: false,
    maxResolutionInMP: maxPixels / 1e6,
    // Output (3 B/px), component planes (up to 4 B/px) and coefficient blocks (2 B a sample,
    // kept whole for progressive files): about 16 B/px at worst, with a floor for tiny limits.
    maxMemoryUsageInMB: Math.max(64, Math.ceil((maxPixels * 16) / 2 ** 20)),
  });
  return { width: decoded.width, height: decoded.height, rgb: decoded.data };
}

/** libjpeg's warning for a file that ends early; Pillow raises "image file is truncated" there. */
const TRUNCATED_WARNING = 'Premature end of JPEG file';

/**
 * JPEG → RGB. Grey and YCbCr files go through @jsquash/jpeg (MozJPEG's decoder, which is
 * libjpeg-turbo's: same integer IDCT and fancy upsampling), bit-exact with Pillow in the fixtures.
 */
export async function decodeJpeg(bytes: Uint8Array, components: number, maxPixels: number): Promise<DecodedPixels> {
  if (components === 4) return decodeWithJpegJs(bytes, maxPixels);
  let codec;
  try {
    codec = await wasmCodec('jpeg');
  } catch {
    return decodeWithJpegJs(bytes, maxPixels);
  }
  const { image, warnings } = await codec.decode(bytes);
  if (warnings.some((warning) => warning.includes(TRUNCATED_WARNING))) throw new Error('the file ends before the image data does');
  const pixels = rgbaToPixels(image.width, image.height, image.data);
  return { width: pixels.width, height: pixels.height, rgb: pixels.rgb };
}
