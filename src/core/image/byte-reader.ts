/** Bounds-checked integer reads: header parsers use these so a short file fails as "truncated". */
export class TruncatedError extends Error {
  constructor(what: string) {
    super(`truncated ${what}`);
    this.name = 'TruncatedError';
  }
}

function need(bytes: Uint8Array, offset: number, length: number, what: string): void {
  if (offset < 0 || offset + length > bytes.length) throw new TruncatedError(what);
}

export function u16be(bytes: Uint8Array, offset: number, what = 'data'): number {
  need(bytes, offset, 2, what);
  return (bytes[offset] << 8) | bytes[offset + 1];
}

export function u16le(bytes: Uint8Array, offset: number, what = 'data'): number {
  need(bytes, offset, 2, what);
  return bytes[offset] | (bytes[offset + 1] << 8);
}

export function u24le(bytes: Uint8Array, offset: number, what = 'data'): number {
  need(bytes, offset, 3, what);
  return bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);
}

export function u32be(bytes: Uint8Array, offset: number, what = 'data'): number {
  need(bytes, offset, 4, what);
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

export function u32le(bytes: Uint8Array, offset: number, what = 'data'): number {
  need(bytes, offset, 4, what);
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

export function fourCharacterCode(bytes: Uint8Array, offset: number, what = 'data'): string {
  need(bytes, offset, 4, what);
  return String.fromCharCode(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]);
}
