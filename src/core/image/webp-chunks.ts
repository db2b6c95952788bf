import { TruncatedError, fourCharacterCode, u16le, u24le, u32le } from './byte-reader.js';

export interface WebpLayout {
  readonly width: number;
  readonly height: number;
  readonly animated: boolean;
  readonly exif?: Uint8Array;
}

const EXIF_PREFIX = 'Exif\0\0';

/** Reads the canvas size from the first chunk (VP8, VP8L or VP8X) and, for VP8X, finds EXIF. */
export function readWebpLayout(bytes: Uint8Array): WebpLayout {
  const first = fourCharacterCode(bytes, 12, 'WebP header');
  const body = 20;
  if (first === 'VP8 ') {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
    if (bytes[body + 3] !== 0x9d || bytes[body + 4] !== 0x01 || bytes[body + 5] !== 0x2a) {
      if (bytes.length < body + 6) throw new TruncatedError('WebP header');
      throw new Error('VP8 start code missing');
    }
    return { width: u16le(bytes, body + 6, 'WebP header') & 0x3fff, height: u16le(bytes, body + 8, 'WebP header') & 0x3fff, animated: false };
  }
  if (first === 'VP8L') {
    if (bytes.length > body && bytes[body] !== 0x2f) throw new Error('VP8L signature missing');
    const bits = u32le(bytes, body + 1, 'WebP header');
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, animated: false };
  }
  if (first === 'VP8X') {
    const flags = bytes[body] ?? 0;
    const width = u24le(bytes, body + 4, 'WebP header') + 1;
    const height = u24le(bytes, body + 7, 'WebP header') + 1;
    let exif: Uint8Array | undefined;
    let offset = 12;
    while (offset + 8 <= bytes.length) {
      const type = fourCharacterCode(bytes, offset);
      const size = u32le(bytes, offset + 4);
      const start = offset + 8;
      if (start + size > bytes.length) throw new TruncatedError(`WebP ${type} chunk`);
      if (type === 'EXIF') {
        const data = bytes.subarray(start, start + size);
        const prefixed = String.fromCharCode(...data.subarray(0, 6)) === EXIF_PREFIX;
        exif = prefixed ? data.subarray(6) : data;
      }
      offset = start + size + (size & 1);
    }
    return { width, height, animated: (flags & 0x02) !== 0, ...(exif ? { exif } : {}) };
  }
  throw new Error(`unknown first WebP chunk "${first}"`);
}
