import { z } from 'zod';
import { randomSchema, seedSchema, signalSchema } from '../options/common.js';
import { imageInputSchema } from '../options/image-input.js';

/** The options every generate/edit on the SD3 sampler takes (UniPic2-Kontext, UniPic2-Metaquery). */
export const sampleOptionsShape = {
  prompt: z.string(),
  /** Denoising steps (official: 50). */
  steps: z.number().int().min(1).max(1000).default(50),
  /** Classifier-free guidance scale (official: 3.5); ≤ 1 runs the positive prompt alone. */
  guidance: z.number().min(0).max(50).default(3.5),
  seed: seedSchema.optional(),
  /** Emit an `image-preview` every k steps (the predicted clean image; costs a VAE decode each). */
  preview: z.number().int().positive().optional(),
  signal: signalSchema.optional(),
  random: randomSchema.optional(),
};

export const multipleOf16 = z
  .number()
  .int()
  .positive()
  .refine((v) => v % 16 === 0, { message: 'must be a multiple of 16 (VAE stride 8 × patch 2)' });

/** Output size of text-to-image; the official scripts' default is 384 wide × 512 high. */
export const sampleSizeShape = {
  width: multipleOf16.default(384),
  height: multipleOf16.default(512),
};

/** The edit source and how it is sized and encoded, as the official editing scripts do (`editReference`). */
export const editSourceShape = {
  image: imageInputSchema,
  /** The source is resized so its longer side is this many pixels (official: 512)… */
  longerEdge: multipleOf16.default(512),
  /** …and its other side a multiple of this (official: 32). The output has the resized size. */
  sizeMultiple: z.union([z.literal(16), z.literal(32), z.literal(64)]).default(32),
  /**
   * The reference latent: `mean` (default) uses the VAE posterior mean — deterministic; the
   * official script draws a `sample` from the posterior with the global RNG, which `sample`
   * reproduces with this run's seed or `random` source.
   */
  reference: z.enum(['mean', 'sample']).default('mean'),
};
