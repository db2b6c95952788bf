import { z } from 'zod';
import type { ImageInput } from '../image/load-image.js';

/** Any input `loadImage` accepts; its own checks give the precise error for bad bytes. */
export const imageInputSchema = z.custom<ImageInput>((value) => typeof value === 'string' || value instanceof URL || (typeof value === 'object' && value !== null), {
  message: 'expected an image: a path, URL, bytes, Blob, ImageData, canvas or { data, width, height, channels }',
});
