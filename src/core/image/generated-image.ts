import { InvalidInputError } from '../../errors/invalid-input-error.js';
import { encodePng, toBlob } from './encode-png.js';

/** A generated or edited image, or a preview of one: RGBA pixels plus encoders. */
export interface GeneratedImage {
  readonly width: number;
  readonly height: number;
  /** RGBA, row-major, alpha 255. */
  readonly data: Uint8ClampedArray;
  /** PNG file bytes. */
  toPNG(): Uint8Array;
  /** A PNG Blob (browsers, and Node ≥ 18 which has Blob). */
  toBlob(): Blob;
  /** The pixels as an `ImageData` (a copy), for `putImageData` on a canvas. Browsers and workers only. */
  toImageData(): ImageData;
}

export function makeImage(width: number, height: number, data: Uint8ClampedArray): GeneratedImage {
  return {
    width,
    height,
    data,
    toPNG: () => encodePng(data, width, height),
    toBlob: () => toBlob(data, width, height),
    toImageData: () => {
      if (typeof ImageData !== 'function') {
        throw new InvalidInputError(
          'toImageData() needs ImageData, which browsers and workers have and Node does not; in Node use data, width and height, or toPNG()',
        );
      }
      // A copy: the ImageData may be handed to a canvas while `data` stays the image's own.
      return new ImageData(new Uint8ClampedArray(data), width, height);
    },
  };
}
