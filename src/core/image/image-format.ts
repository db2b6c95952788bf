/** Formats recognised from their first bytes. Only png, jpeg and webp are decoded. */
export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp' | 'tiff' | 'avif' | 'heic' | 'unknown';

export const DECODABLE_FORMATS: readonly ImageFormat[] = ['png', 'jpeg', 'webp'];

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((value, index) => bytes[offset + index] === value);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

export function detectImageFormat(bytes: Uint8Array): ImageFormat {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 2) === 'BM') return 'bmp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (brand.startsWith('hei') || brand.startsWith('hev') || brand === 'mif1') return 'heic';
  }
  return 'unknown';
}

/** What an error message says about bytes it could not use: length, type, first bytes as hex. */
export function describeBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return '0 bytes';
  const head = Array.from(bytes.subarray(0, 16), (value) => value.toString(16).padStart(2, '0')).join(' ');
  const format = detectImageFormat(bytes);
  const kind = format === 'unknown' ? 'not a recognised image format' : `detected ${format}`;
  return `${bytes.length} bytes, ${kind}, starting ${head}${bytes.length > 16 ? ' …' : ''}`;
}
