import { z } from 'zod';
import { imageInputSchema } from '../../../core/options/image-input.js';
import { randomSchema, seedSchema, signalSchema } from '../../../core/options/common.js';

/** The editing script's default negative prompt (spec §3.3). */
export const EDIT_DEFAULT_NEGATIVE_PROMPT =
  'blurry, low quality, low resolution, distorted, deformed, broken content, missing parts, damaged details, artifacts, glitch, noise, pixelated, grainy, compression artifacts, bad composition, wrong proportion, incomplete editing, unfinished, unedited areas.';

const shared = {
  prompt: z.string(),
  /** Denoising steps (official: 50). */
  steps: z.number().int().min(1).max(1000).default(50),
  /** Classifier-free guidance scale (official: 3.5); ≤ 1 runs the positive prompt alone. */
  guidance: z.number().min(0).max(50).default(3.5),
  seed: seedSchema.optional(),
  /**
   * `false` runs without T5: 77 rows of zeros replace its embedding, as the pipeline does when it has
   * no T5 — much less memory, but **different outputs** from the official model.
   */
  t5: z.boolean().default(true),
  /** Emit an `image-preview` every k steps (the predicted clean image; costs a VAE decode each). */
  preview: z.number().int().positive().optional(),
  signal: signalSchema.optional(),
  random: randomSchema.optional(),
};

const multipleOf16 = z
  .number()
  .int()
  .positive()
  .refine((v) => v % 16 === 0, { message: 'must be a multiple of 16 (VAE stride 8 × patch 2)' });

export const kontextGenerateOptionsSchema = z
  .object({
    ...shared,
    negativePrompt: z.string().default(''),
    /** Output size in pixels; the official text-to-image script's default is 384 wide × 512 high. */
    width: multipleOf16.default(384),
    height: multipleOf16.default(512),
  })
  .strict();
export type KontextGenerateOptions = z.input<typeof kontextGenerateOptionsSchema>;
export type ParsedKontextGenerateOptions = z.output<typeof kontextGenerateOptionsSchema>;

export const kontextEditOptionsSchema = z
  .object({
    ...shared,
    image: imageInputSchema,
    negativePrompt: z.string().default(EDIT_DEFAULT_NEGATIVE_PROMPT),
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
  })
  .strict();
export type KontextEditOptions = z.input<typeof kontextEditOptionsSchema>;
export type ParsedKontextEditOptions = z.output<typeof kontextEditOptionsSchema>;
