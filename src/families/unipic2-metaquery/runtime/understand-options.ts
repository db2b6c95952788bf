import { z } from 'zod';
import { randomSchema, seedSchema, signalSchema } from '../../../core/options/common.js';
import { imageInputSchema } from '../../../core/options/image-input.js';
import { DEFAULT_QUESTION } from '../../../core/text/prompts.js';
import type { TextSamplingOptions } from '../../../core/text/sampling-options.js';

/**
 * `understand` options of this family: UniPic-1's (image, prompt, maxTokens, the sampling knobs,
 * stop, seed, signal, random) with the sampling defaults taken from the checkpoint's
 * generation_config.json instead of constants, and `minPixels`/`maxPixels` (the Qwen2-VL processor's
 * budget, default from preprocessor_config.json) in place of UniPic-1's square `size`.
 */
export function metaqueryUnderstandSchema(defaults: TextSamplingOptions & { readonly minPixels: number; readonly maxPixels: number }) {
  return z
    .object({
      image: imageInputSchema,
      prompt: z.string().min(1).default(DEFAULT_QUESTION),
      maxTokens: z.number().int().min(1).max(32768).default(1024),
      doSample: z.boolean().default(defaults.doSample),
      temperature: z.number().positive().max(100).default(defaults.temperature),
      topK: z.number().int().min(0).default(defaults.topK),
      topP: z.number().gt(0).max(1).default(defaults.topP),
      /** Over every id of the sequence, prompt included (as `generate` with input_ids does). */
      repetitionPenalty: z.number().positive().max(100).default(defaults.repetitionPenalty),
      stop: z.array(z.string().min(1)).default([]),
      minPixels: z.number().int().positive().default(defaults.minPixels),
      maxPixels: z.number().int().positive().default(defaults.maxPixels),
      seed: seedSchema.optional(),
      signal: signalSchema.optional(),
      random: randomSchema.optional(),
    })
    .strict()
    .refine((o) => o.minPixels <= o.maxPixels, { message: 'minPixels must not exceed maxPixels', path: ['minPixels'] });
}

export type MetaqueryUnderstandSchema = ReturnType<typeof metaqueryUnderstandSchema>;
export type MetaqueryUnderstandOptions = z.output<MetaqueryUnderstandSchema>;
/** What a caller passes (defaults filled in by the schema). */
export type MetaqueryUnderstandInput = z.input<MetaqueryUnderstandSchema>;

/** Sampling defaults from a generation_config.json (the 7B's when a field is absent). */
export function generationDefaults(generation: Record<string, unknown>): TextSamplingOptions {
  const number = (key: string, fallback: number): number => (typeof generation[key] === 'number' ? (generation[key] as number) : fallback);
  return {
    doSample: typeof generation.do_sample === 'boolean' ? generation.do_sample : true,
    temperature: number('temperature', 0.1),
    topK: number('top_k', 1),
    topP: number('top_p', 0.001),
    repetitionPenalty: number('repetition_penalty', 1.05),
  };
}
