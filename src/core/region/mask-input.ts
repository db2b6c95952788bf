import { InvalidInputError } from '../../errors/invalid-input-error.js';
import { UniPicError } from '../../errors/unipic-error.js';
import { loadImagePixels, type ImageInput } from '../image/load-image.js';
import type { DecodedPixels } from '../image/rgb-image.js';

/**
 * A mask given as numbers rather than an image: `data[y·width + x]` is `true`/`false` or a value in
 * [0, 1]; a value ≥ 0.5 (or `true`) means "regenerate this pixel".
 */
export interface MaskGrid {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number | boolean>;
}

/** A region mask: any image input (white = regenerate) or a grid. */
export type MaskInput = ImageInput | MaskGrid;

/** What problem a refused mask has (`details.problem` of the InvalidInputError). */
export type MaskProblem = 'mask-empty' | 'mask-values' | 'mask-transparent' | 'mask-unreadable' | 'mask-aspect';

/** A binarised mask: `masked[y·width + x]` is 1 where the pixel is to be regenerated. */
export interface MaskRaster {
  readonly width: number;
  readonly height: number;
  readonly masked: Uint8Array;
}

export function maskError(problem: MaskProblem, message: string, extra: Record<string, unknown> = {}, cause?: unknown): InvalidInputError {
  return new InvalidInputError(`mask: ${message}`, { details: { problem, ...extra }, ...(cause === undefined ? {} : { cause }) });
}

/**
 * A grid, not an image: `{ width, height, data }` without `channels`, whose data holds one value a
 * pixel. An ImageData (RGBA bytes, 4 a pixel) has the same keys but four times the length.
 */
export function isMaskGrid(value: unknown): value is MaskGrid {
  if (typeof value !== 'object' || value === null || 'channels' in value) return false;
  const { width, height, data } = value as Partial<MaskGrid>;
  if (typeof width !== 'number' || typeof height !== 'number' || data === undefined || data === null) return false;
  if (Array.isArray(data) || data instanceof Float32Array || data instanceof Float64Array) return true;
  return ArrayBuffer.isView(data) && (data as unknown as ArrayLike<number>).length === width * height;
}

function gridRaster(grid: MaskGrid): MaskRaster {
  const { width, height, data } = grid;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length === 0) {
    throw maskError('mask-empty', `the grid is empty (${width}×${height}, ${data.length} values)`, { width, height, length: data.length });
  }
  if (data.length !== width * height) {
    throw maskError('mask-values', `a ${width}×${height} grid needs ${width * height} values, got ${data.length}`, { width, height, length: data.length });
  }
  const masked = new Uint8Array(width * height);
  for (let i = 0; i < masked.length; i++) {
    const value = data[i];
    if (typeof value === 'boolean') {
      masked[i] = value ? 1 : 0;
      continue;
    }
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw maskError('mask-values', `grid values must be booleans or numbers in [0, 1]; value ${i} is ${String(value)}`, { index: i });
    }
    masked[i] = value >= 0.5 ? 1 : 0;
  }
  return { width, height, masked };
}

/** Pillow's `convert('L')` grey level (ITU-R 601, fixed point), so a mask reads as Pillow would read it. */
function grey(red: number, green: number, blue: number): number {
  return (red * 19595 + green * 38470 + blue * 7471 + 0x8000) >> 16;
}

/**
 * The image rule: a pixel is masked when its grey level times its opacity is at least half of
 * full white (grey·alpha ≥ 127.5·255). Opaque white regenerates, black keeps; on a transparent
 * layer, painted strokes regenerate and the transparent rest keeps.
 */
export function imageRaster(pixels: DecodedPixels): MaskRaster {
  const { width, height, rgb, alpha } = pixels;
  const count = width * height;
  if (alpha?.every((a) => a === 0)) {
    throw maskError(
      'mask-transparent',
      `the ${width}×${height} mask image is fully transparent, so it marks nothing; paint the region to regenerate white (or opaque), or pass an all-black mask to keep everything`,
      { width, height },
    );
  }
  const masked = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const level = grey(rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]);
    masked[i] = level * (alpha ? alpha[i] : 255) * 2 >= 255 * 255 ? 1 : 0;
  }
  return { width, height, masked };
}

/** Any mask input → its binarised raster. Every refusal is an InvalidInputError with `details.problem`. */
export async function loadMask(input: MaskInput, signal?: AbortSignal): Promise<MaskRaster> {
  if (isMaskGrid(input)) return gridRaster(input);
  let pixels: DecodedPixels;
  try {
    pixels = await loadImagePixels(input as ImageInput, signal ? { signal } : undefined);
  } catch (error) {
    if (UniPicError.isInstance(error) && error.code === 'INVALID_INPUT') {
      throw maskError('mask-unreadable', `the mask is not a readable image or grid: ${error.message}`, {}, error);
    }
    throw error;
  }
  return imageRaster(pixels);
}
