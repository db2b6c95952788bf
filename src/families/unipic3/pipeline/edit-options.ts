import { z } from 'zod';
import { randomSchema, seedSchema, signalSchema } from '../../../core/options/common.js';
import { imageInputSchema } from '../../../core/options/image-input.js';
import { MAX_EDIT_IMAGES } from '../latents/input-sizing.js';

const side = z
  .number()
  .int()
  .min(16)
  .max(4096)
  .refine((v) => v % 16 === 0, { message: 'must be a multiple of 16 (the packed latent grid)' });

/**
 * `edit` options. `images` (1–6, the first is the main input; all share the 1024² budget) or a
 * single `image`; the output is `width × height` (1024² as the scripts use). `steps` defaults to the
 * checkpoint's sampler (50 teacher, 8 distilled); `guidance` is the true-CFG scale (4.0 as the
 * scripts; 1.0 skips the `" "` pass and halves the transformer cost).
 */
export const unipic3EditOptionsSchema = z
  .object({
    image: imageInputSchema.optional(),
    images: z.array(imageInputSchema).min(1).max(MAX_EDIT_IMAGES).optional(),
    prompt: z.string().min(1, 'prompt must not be empty'),
    width: side.default(1024),
    height: side.default(1024),
    steps: z.number().int().min(1).max(1000).optional(),
    guidance: z.number().min(1).max(50).default(4),
    seed: seedSchema.optional(),
    signal: signalSchema.optional(),
    random: randomSchema.optional(),
  })
  .strict()
  .refine((o) => (o.image === undefined) !== (o.images === undefined), { message: 'give either image or images (1–6)', path: ['images'] });

export type Unipic3EditOptions = z.input<typeof unipic3EditOptionsSchema>;
export type ParsedUnipic3EditOptions = z.output<typeof unipic3EditOptionsSchema>;
