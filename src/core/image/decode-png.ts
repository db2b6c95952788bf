import { decode } from 'fast-png';
import type { DecodedPixels } from './rgb-image.js';

const GREY = 0;
const INDEXED = 3;

/** Unpacks 1/2/4-bit samples (rows padded to whole bytes) into one value a byte. */
function unpackSamples(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  const perByte = 8 / depth;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = packed[y * rowBytes + Math.floor(x / perByte)];
      out[y * width + x] = (byte >> (8 - depth * ((x % perByte) + 1))) & mask;
    }
  }
  return out;
}

/**
 * PNG → pixels with the values Pillow's `Image.open(...).convert('RGB')` gives:
 * 16-bit samples keep their high byte (Pillow's RGB;16B/RGBA;16B/LA;16B raw modes; for 16-bit grey
 * Pillow instead clips at 255, which whitens almost every pixel — unipic takes the high byte there
 * too, see docs/images.md), 1/2/4-bit grey is scaled to 0..255 (×255, ×85, ×17), palettes are
 * looked up. Transparency (alpha channel, palette tRNS, tRNS key colour) becomes `alpha`.
 */
export function decodePng(bytes: Uint8Array): DecodedPixels {
  const png = decode(bytes, { checkCrc: true });
  const { width, height, depth, channels } = png;
  const count = width * height;
  // Truecolour PNGs may carry a suggested-palette PLTE chunk; only one-channel data is indexed.
  const colorType = png.palette && channels === 1 ? INDEXED : channels === 1 ? GREY : -1;
  const samples: Uint8Array =
    depth < 8
      ? unpackSamples(png.data as Uint8Array, width, height, depth)
      : depth === 16
        ? Uint8Array.from(png.data as Uint16Array, (value) => value >> 8)
        : (png.data as Uint8Array);

  const rgb = new Uint8Array(count * 3);
  let alpha: Uint8Array | undefined;
  if (colorType === INDEXED) {
    const palette = png.palette!;
    const hasAlpha = palette.some((entry) => entry.length === 4 && entry[3] !== 255);
    if (hasAlpha) alpha = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      // An index past the palette's end reads as black, as Pillow's zero-filled palette does.
      const entry = palette[samples[i]] ?? [0, 0, 0, 255];
      rgb[i * 3] = entry[0];
      rgb[i * 3 + 1] = entry[1];
      rgb[i * 3 + 2] = entry[2];
      if (alpha) alpha[i] = entry[3] ?? 255;
    }
    return { width, height, rgb, ...(alpha ? { alpha } : {}) };
  }

  const scale = depth < 8 ? 255 / ((1 << depth) - 1) : 1;
  const hasAlphaChannel = channels === 2 || channels === 4;
  const colourChannels = channels >= 3 ? 3 : 1;
  if (hasAlphaChannel) alpha = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const base = i * channels;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = samples[base + (colourChannels === 3 ? c : 0)] * scale;
    if (alpha) alpha[i] = samples[base + channels - 1];
  }

  // A tRNS key colour is compared at full precision: two 16-bit colours can share a high byte.
  const key = png.transparency;
  if (!hasAlphaChannel && key && key.length === colourChannels) {
    alpha = new Uint8Array(count).fill(255);
    const full = png.data;
    for (let i = 0; i < count; i++) {
      let matches = true;
      for (let c = 0; c < colourChannels && matches; c++) {
        const value = depth < 8 ? samples[i] : full[i * channels + c];
        matches = value === key[c];
      }
      if (matches) alpha[i] = 0;
    }
  }
  return { width, height, rgb, ...(alpha ? { alpha } : {}) };
}
