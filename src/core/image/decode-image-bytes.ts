import { InvalidInputError } from '../../errors/invalid-input-error.js';
import { applyAlpha, type RgbColor } from './apply-alpha.js';
import { applyOrientation } from './apply-orientation.js';
import { TruncatedError } from './byte-reader.js';
import { decodeJpeg } from './decode-jpeg.js';
import { decodePng } from './decode-png.js';
import { decodeWebp } from './decode-webp.js';
import { readExifOrientation } from './exif-orientation.js';
import { describeBytes, detectImageFormat, type ImageFormat } from './image-format.js';
import { readJpegLayout } from './jpeg-markers.js';
import { assertWithinPixelLimit } from './pixel-limit.js';
import { readPngLayout } from './png-chunks.js';
import type { DecodedPixels, RgbImage } from './rgb-image.js';
import { readWebpLayout } from './webp-chunks.js';

export interface DecodeSettings {
  readonly maxPixels: number;
  /** 'exif' turns the image upright like PIL.ImageOps.exif_transpose; 'ignore' keeps stored pixels. */
  readonly orientation: 'exif' | 'ignore';
  readonly background?: RgbColor;
}

interface Layout {
  readonly width: number;
  readonly height: number;
  readonly exif?: Uint8Array;
  readonly animated?: boolean;
  readonly components?: number;
}

function readLayout(bytes: Uint8Array, format: ImageFormat, headerOnly: boolean): Layout {
  if (format === 'png') return readPngLayout(bytes, headerOnly);
  if (format === 'jpeg') return readJpegLayout(bytes);
  return readWebpLayout(bytes);
}

function decodePixels(bytes: Uint8Array, format: ImageFormat, layout: Layout, maxPixels: number): DecodedPixels | Promise<DecodedPixels> {
  if (format === 'png') return decodePng(bytes);
  if (format === 'jpeg') return decodeJpeg(bytes, layout.components ?? 3, maxPixels);
  return decodeWebp(bytes);
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** PNG, JPEG or WebP bytes → upright RGB8, refusing bombs before anything is allocated. */
export async function decodeImageBytes(bytes: Uint8Array, settings: DecodeSettings, what = 'Image'): Promise<RgbImage> {
  return applyAlpha(await decodeImagePixels(bytes, settings, what), settings.background);
}

/** As decodeImageBytes, but before the alpha rule: the alpha channel, when the file has one, is kept. */
export async function decodeImagePixels(bytes: Uint8Array, settings: DecodeSettings, what = 'Image'): Promise<DecodedPixels> {
  if (bytes.length === 0) throw new InvalidInputError(`${what} is empty (0 bytes)`);
  const format = detectImageFormat(bytes);
  if (format !== 'png' && format !== 'jpeg' && format !== 'webp') {
    throw new InvalidInputError(`${what} cannot be decoded (${describeBytes(bytes)}); PNG, JPEG and WebP are supported`, {
      details: { format, length: bytes.length },
    });
  }
  const invalid = (message: string, cause: unknown): InvalidInputError =>
    new InvalidInputError(`${what} ${message} (${describeBytes(bytes)})`, { cause, details: { format, length: bytes.length } });

  let header: Layout;
  try {
    header = readLayout(bytes, format, true);
  } catch (error) {
    throw invalid(error instanceof TruncatedError ? `is truncated: ${reason(error)}` : `has an unreadable header: ${reason(error)}`, error);
  }
  assertWithinPixelLimit(header.width, header.height, settings.maxPixels, `${what} (${format})`);

  let layout: Layout;
  try {
    layout = format === 'png' ? readLayout(bytes, format, false) : header;
  } catch (error) {
    throw invalid(`is truncated or corrupt: ${reason(error)}`, error);
  }
  if (layout.animated) throw invalid('is an animated WebP, which is not supported', undefined);

  let pixels: DecodedPixels;
  try {
    pixels = await decodePixels(bytes, format, layout, settings.maxPixels);
  } catch (error) {
    throw invalid(`could not be decoded as ${format}: ${reason(error)}`, error);
  }
  if (pixels.width !== header.width || pixels.height !== header.height) {
    throw invalid(`decoded to ${pixels.width}×${pixels.height}, but its header says ${header.width}×${header.height}`, undefined);
  }
  if (settings.orientation === 'exif' && layout.exif) {
    pixels = applyOrientation(pixels, readExifOrientation(layout.exif));
  }
  return pixels;
}
