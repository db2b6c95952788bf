import { z } from 'zod';
import { imageInputSchema } from '../../../core/options/image-input.js';
import { samplingShape } from '../../../core/options/common.js';
import { regionShape } from './region-options.js';

export const editOptionsSchema = z
  .object({
    ...samplingShape,
    /** The source image (path, URL, bytes, Blob, ImageData, canvas, raw pixels). */
    image: imageInputSchema,
    /** The unconditional prompt for guidance; the official default. */
    negativePrompt: z.string().default('Repeat this image.'),
    /** Optional region: only the masked tokens (or outpaint's new area) are regenerated. */
    ...regionShape,
  })
  .strict();

export type EditOptions = z.input<typeof editOptionsSchema>;
export type ParsedEditOptions = z.output<typeof editOptionsSchema>;
