import { z } from 'zod';
import { samplingShape } from '../../../core/options/common.js';
import { imageInputSchema } from '../../../core/options/image-input.js';
import { refineRegion, regionShape } from './region-options.js';

export const generateOptionsSchema = z
  .object({
    ...samplingShape,
    /** The unconditional prompt for guidance; the official default. */
    negativePrompt: z.string().default('Generate an image.'),
    /** Region generation only: the source whose tokens outside `mask` (or `outpaint`'s new area) are kept. */
    image: imageInputSchema.optional(),
    ...regionShape,
  })
  .strict()
  .superRefine((value, context) => refineRegion(value, context, value.image !== undefined));

export type GenerateOptions = z.input<typeof generateOptionsSchema>;
export type ParsedGenerateOptions = z.output<typeof generateOptionsSchema>;
