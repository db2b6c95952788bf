import { z } from 'zod';
import { textSamplingOverridesShape } from '../../../core/text/sampling-options.js';
import { DEFAULT_QUESTION } from '../../../core/text/prompts.js';
import { randomSchema, seedSchema, signalSchema } from '../../../core/options/common.js';
import { imageInputSchema } from '../../../core/options/image-input.js';

export const understandOptionsSchema = z
  .object({
    image: imageInputSchema,
    /** The question; the official script's default. */
    prompt: z.string().min(1).default(DEFAULT_QUESTION),
    /** New tokens at most (the official script allows 1024). */
    maxTokens: z.number().int().min(1).max(32768).default(1024),
    /** Each left out: the model's generation defaults (generation_config.json), then the SDK's. */
    ...textSamplingOverridesShape,
    /** Stop when the text contains one of these (not included in the result). */
    stop: z.array(z.string().min(1)).default([]),
    /** Side the image is resized to (default: the model's largest size, 1024 for UniPic). */
    size: z.number().int().positive().optional(),
    seed: seedSchema.optional(),
    signal: signalSchema.optional(),
    random: randomSchema.optional(),
  })
  .strict();

export type UnderstandOptions = z.input<typeof understandOptionsSchema>;
export type ParsedUnderstandOptions = z.output<typeof understandOptionsSchema>;
