import { encodePng, toBlob } from './encode-png.js';

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
