import { TruncatedError, u16be } from './byte-reader.js';

export interface JpegLayout {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  /** The TIFF block of the first APP1 "Exif" segment, when there is one. */
  readonly exif?: Uint8Array;
}

// Start-of-frame markers C0..CF, except C4 (DHT), C8 (JPG extension) and CC (DAC).
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"

/** Walks the marker segments up to the first scan: frame size, component count, EXIF. */
export function readJpegLayout(bytes: Uint8Array): JpegLayout {
  let offset = 2;
  let exif: Uint8Array | undefined;
  while (offset < bytes.length) {
    // Markers may be padded with any number of 0xFF fill bytes; stray bytes are skipped as libjpeg does.
    if (bytes[offset] !== 0xff) {
      offset++;
      continue;
    }
    while (bytes[offset] === 0xff) offset++;
    if (offset >= bytes.length) break;
    const marker = bytes[offset++];
    if (marker === 0x00 || marker === 0x01 || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9) break;
    const length = u16be(bytes, offset, 'JPEG segment');
    if (length < 2 || offset + length > bytes.length) throw new TruncatedError('JPEG segment');
    const body = bytes.subarray(offset + 2, offset + length);
    if (marker === 0xe1 && !exif && EXIF_HEADER.every((value, index) => body[index] === value)) {
      exif = body.subarray(EXIF_HEADER.length);
    }
    if (isStartOfFrame(marker)) {
      if (body.length < 6) throw new TruncatedError('JPEG frame header');
      const height = u16be(body, 1);
      const width = u16be(body, 3);
      const components = body[5];
      // Exif APP1 comes before the frame header in every writer we know, so this can stop here.
      return { width, height, components, ...(exif ? { exif } : {}) };
    }
    if (marker === 0xda) break;
    offset += length;
  }
  throw new Error('no start-of-frame marker before the image data');
}
