import { InvalidInputError } from '../../errors/invalid-input-error.js';

/** 8192 × 8192: the largest square a default call accepts (Pillow's own bomb limit is ~89.5 MP). */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

/**
 * Refuses an image whose declared size is above the limit. Called with the size read from the
 * header, before any pixel buffer exists, so a 100000×100000 bomb costs nothing.
 */
export function assertWithinPixelLimit(width: number, height: number, maxPixels: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InvalidInputError(`${what} declares an invalid size ${width}×${height}`, { details: { width, height } });
  }
  const pixels = width * height;
  if (pixels > maxPixels) {
    const megapixels = (value: number): string => `${(value / 1e6).toFixed(1)} MP`;
    throw new InvalidInputError(
      `${what} is ${width}×${height} (${megapixels(pixels)}), above the ${megapixels(maxPixels)} limit; pass a larger \`maxPixels\` to accept it`,
      { details: { width, height, maxPixels } },
    );
  }
}
