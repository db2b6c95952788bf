import { z } from 'zod';
import { editSourceShape, sampleOptionsShape, sampleSizeShape } from '../../../core/diffusion/sample-options-schema.js';

/** The editing script's default negative prompt (`unipic2_sd35m_kontext_editing.py`). */
export const EDIT_DEFAULT_NEGATIVE_PROMPT =
  'blurry, low quality, low resolution, distorted, deformed, broken content, missing parts, damaged details, artifacts, glitch, noise, pixelated, grainy, compression artifacts, bad composition, wrong proportion, incomplete editing, unfinished, unedited areas.';

const shared = {
  ...sampleOptionsShape,
  /**
   * `false` runs without T5: 77 rows of zeros replace its embedding, as the pipeline does when it has
   * no T5 — much less memory, but **different outputs** from the official model.
   */
  t5: z.boolean().default(true),
};

export const kontextGenerateOptionsSchema = z
  .object({
    ...shared,
    negativePrompt: z.string().default(''),
    ...sampleSizeShape,
  })
  .strict();
export type KontextGenerateOptions = z.input<typeof kontextGenerateOptionsSchema>;
export type ParsedKontextGenerateOptions = z.output<typeof kontextGenerateOptionsSchema>;

export const kontextEditOptionsSchema = z
  .object({
    ...shared,
    negativePrompt: z.string().default(EDIT_DEFAULT_NEGATIVE_PROMPT),
    ...editSourceShape,
  })
  .strict();
export type KontextEditOptions = z.input<typeof kontextEditOptionsSchema>;
export type ParsedKontextEditOptions = z.output<typeof kontextEditOptionsSchema>;
