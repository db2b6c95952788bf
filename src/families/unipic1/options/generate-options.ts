import { z } from 'zod';
import { samplingShape } from '../../../core/options/common.js';

export const generateOptionsSchema = z
  .object({
    ...samplingShape,
    /** The unconditional prompt for guidance; the official default. */
    negativePrompt: z.string().default('Generate an image.'),
  })
  .strict();

export type GenerateOptions = z.input<typeof generateOptionsSchema>;
export type ParsedGenerateOptions = z.output<typeof generateOptionsSchema>;
