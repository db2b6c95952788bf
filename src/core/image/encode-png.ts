import { encode } from 'fast-png';

/** RGBA8 pixels → PNG file bytes (8-bit RGBA, no interlacing). */
export function encodePng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`RGBA data has ${rgba.length} bytes, ${width}×${height} needs ${width * height * 4}`);
  }
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}

/** The same as a Blob (browsers: object URLs, downloads, <img> sources; Node ≥ 18 has Blob too). */
export function toBlob(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Blob {
  return new Blob([encodePng(rgba, width, height) as Uint8Array<ArrayBuffer>], { type: 'image/png' });
}
