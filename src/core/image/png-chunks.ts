import { TruncatedError, fourCharacterCode, u32be } from './byte-reader.js';

export interface PngLayout {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
  /** Body of the eXIf chunk (a TIFF block), when there is one. */
  readonly exif?: Uint8Array;
}

const SIGNATURE_LENGTH = 8;

/**
 * Reads IHDR, then walks every chunk to find eXIf and to prove the file is complete: a PNG cut at
 * a chunk boundary would otherwise decode as silently black rows (the inflater just stops).
 * `headerOnly` stops after IHDR, for the size check that must run before anything is allocated.
 */
export function readPngLayout(bytes: Uint8Array, headerOnly = false): PngLayout {
  if (fourCharacterCode(bytes, SIGNATURE_LENGTH + 4, 'PNG header') !== 'IHDR') {
    throw new Error('first chunk is not IHDR');
  }
  const width = u32be(bytes, 16, 'PNG header');
  const height = u32be(bytes, 20, 'PNG header');
  if (bytes.length < 29) throw new TruncatedError('PNG header');
  const bitDepth = bytes[24];
  const colorType = bytes[25];
  if (headerOnly) return { width, height, bitDepth, colorType };

  let exif: Uint8Array | undefined;
  let offset = SIGNATURE_LENGTH;
  for (;;) {
    const length = u32be(bytes, offset, 'PNG chunk');
    const type = fourCharacterCode(bytes, offset + 4, 'PNG chunk');
    const end = offset + 12 + length;
    if (end > bytes.length) throw new TruncatedError(`PNG ${type} chunk`);
    if (type === 'eXIf' && !exif) exif = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IEND') break;
    offset = end;
    if (offset >= bytes.length) throw new TruncatedError('PNG (no IEND chunk)');
  }
  return { width, height, bitDepth, colorType, ...(exif ? { exif } : {}) };
}
